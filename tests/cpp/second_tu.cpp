/* SPDX-License-Identifier: MIT OR Apache-2.0 */
// A second translation unit that includes senti.hpp: the test binary links only if the header
// is free of ODR violations (every function inline). CMakeLists compiles this file with extra
// warnings (-Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wold-style-cast) to keep the
// header clean for consumers who build with them; the functions below instantiate the header's
// templates (Params::set for each value type, Dataset::add and add_indexed over several ranges,
// scores_batch) so that those warnings see them too.
#include "second_tu.h"

#include <array>
#include <cstdint>
#include <list>
#include <set>

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

std::string second_tu_params_json() {
    const std::string path = "data/x.jsonl";
    senti::Params p = senti::Params()
                          .data_path(path)
                          .data_format("jsonl")
                          .train_limit(100)
                          .validation_fraction(0.2)
                          .cell("gru")
                          .embedding_dim(16)
                          .hidden_size(16)
                          .layers(1)
                          .bidirectional(false)
                          .pooling("mean")
                          .dropout(0.1)
                          .embedding_dropout(0.0)
                          .embedding_pretrain_epochs(0)
                          .vocab_size(500)
                          .max_len(32)
                          .truncation("keep_start")
                          .epochs(2)
                          .batch_size(8)
                          .optimizer("adamw")
                          .learning_rate(0.01)
                          .lr_schedule("linear")
                          .weight_decay(0.001)
                          .clip_norm(2.0)
                          .restore_best(false)
                          .seed(7)
                          .threads(1)
                          .wide_ngrams(1)
                          .wide_buckets(1024)
                          .wide_epochs(2)
                          .wide_learning_rate(0.05)
                          .wide_l2(1e-5);
    const std::size_t size = 24;
    const unsigned short small = 3;
    const long long big = 9;
    const float rate = 0.25f;
    const std::string_view cell = "lstm";
    p.set("hidden_size", size).set("layers", small).set("seed", big).set("dropout", rate).set("learning_rate", 0.005);
    p.set("bidirectional", true).set("cell", cell).set("pooling", std::string("max")).set("truncation", "keep_end");
    const char* optimizer = "adamw";  // weight_decay above needs it
    p.set("optimizer", optimizer).reset("train_limit");
    senti::Params moved = std::move(p).set("epochs", 3).reset("wide_buckets");
    return moved.to_json();
}

std::size_t second_tu_dataset_size(const std::vector<std::string>& labels) {
    senti::Dataset data;
    data.set_labels(labels);
    data.add("one text", labels[0]);
    const std::vector<std::string> texts = {"two", "three"};
    const std::list<std::string> names = {labels[1], labels[2]};
    data.add(texts, names);
    const std::array<const char*, 2> c_texts = {"four", "five"};
    const std::vector<std::string_view> views = {labels[0], labels[1]};
    data.add(c_texts, views);
    data.add({"six"}, {labels[2]});
    data.add_indexed(texts, std::vector<int>{0, 2});
    data.add_indexed(c_texts, std::vector<std::size_t>{1, 2});
    data.add_indexed(texts, std::array<std::uint8_t, 2>{{0, 1}});
    senti::Dataset other;
    other.set_labels(std::set<std::string>(labels.begin(), labels.end()));
    senti::Dataset third;
    third.set_labels({"x", "y"});
    return data.size();
}

std::vector<std::vector<float>> second_tu_scores_batch(const senti::Model& model, const std::vector<std::string>& texts) {
    return model.scores_batch(texts);
}

std::vector<std::string> second_tu_predicted_labels(const senti::Model& model, const std::vector<std::string>& texts) {
    std::vector<std::string> out;
    for (const std::string& text : texts) out.push_back(model.predict_label(text).label);
    return out;
}

std::vector<std::string> second_tu_report_labels(std::string_view json) { return senti::Report::parse(json).labels; }

std::vector<std::string> second_tu_explained_tokens(const senti::Model& model, std::string_view text) {
    std::vector<std::string> out;
    const senti::Explanation e = model.explain(text, senti::predicted_class, 2);
    for (const senti::TokenContribution& t : e.tokens) out.emplace_back(t.text_in(text));
    return out;
}
