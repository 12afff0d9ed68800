// A second translation unit that includes senti.hpp: the test binary links only if the header
// is free of ODR violations (every function inline). CMakeLists compiles this file with extra
// warnings (-Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wold-style-cast) to keep the
// header clean for consumers who build with them.
#include "second_tu.h"

#include "senti.hpp"

std::vector<float> second_tu_predict_each(const senti::Model& model, const std::vector<std::string>& texts) {
    std::vector<float> out;
    out.reserve(texts.size());
    for (const std::string& text : texts) out.push_back(model.predict(text));
    return out;
}

std::string second_tu_version() { return senti::version(); }

senti_status second_tu_status_of_empty_predict() {
    senti::Model empty;
    try {
        (void)empty.predict("anything");
    } catch (const senti::Error& e) {
        return e.status();
    }
    return SENTI_OK;
}
