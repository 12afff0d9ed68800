/* SPDX-License-Identifier: MIT OR Apache-2.0 */
// Functions defined in second_tu.cpp, a separate translation unit that also includes senti.hpp.
#ifndef SENTI_TESTS_SECOND_TU_H
#define SENTI_TESTS_SECOND_TU_H

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "senti.h"

namespace senti {
class Model;
}

// One senti::Model::predict per text, called from the second translation unit.
std::vector<float> second_tu_predict_each(const senti::Model& model, const std::vector<std::string>& texts);

// senti::version() as seen from the second translation unit.
std::string second_tu_version();

// The status senti::Error carries when an empty Model predicts (SENTI_ERR_NULL_POINTER).
senti_status second_tu_status_of_empty_predict();

// Params built there with every typed setter and set() with many value types; its to_json().
std::string second_tu_params_json();

// A Dataset filled there through every add form, with the given three labels; its size().
std::size_t second_tu_dataset_size(const std::vector<std::string>& labels);

// Model::scores_batch and Model::predict_label from there (the label of each text).
std::vector<std::vector<float>> second_tu_scores_batch(const senti::Model& model, const std::vector<std::string>& texts);
std::vector<std::string> second_tu_predicted_labels(const senti::Model& model, const std::vector<std::string>& texts);

// senti::Report::parse from there: the labels it read.
std::vector<std::string> second_tu_report_labels(std::string_view json);

// Model::explain from there: each token's bytes in `text` (TokenContribution::text_in).
std::vector<std::string> second_tu_explained_tokens(const senti::Model& model, std::string_view text);

#endif
