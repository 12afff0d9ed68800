// Functions defined in second_tu.cpp, a separate translation unit that also includes senti.hpp.
#ifndef SENTI_TESTS_SECOND_TU_H
#define SENTI_TESTS_SECOND_TU_H

#include <string>
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

#endif
