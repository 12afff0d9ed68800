module github.com/libsenti/senti/examples/go/sentiserver

go 1.22

require github.com/libsenti/senti/bindings/go v0.0.0-00010101000000-000000000000

replace github.com/libsenti/senti/bindings/go => ../../../bindings/go
