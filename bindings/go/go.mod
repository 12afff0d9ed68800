module github.com/libsenti/senti/bindings/go

go 1.22
