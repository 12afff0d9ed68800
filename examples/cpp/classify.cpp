/* SPDX-License-Identifier: MIT OR Apache-2.0 */
// classify: the class of each line read from stdin, with libsenti's C++ wrapper (senti.hpp).
//
//   classify <model.safetensors>                       use a saved model
//   classify --train <data> [--save <model>]           train a small model first (seconds)
//
// <data> is any labeled data the library reads (IMDB reviews.json, aclImdb, .jsonl, .csv or
// class folders), with two labels or more. Prints one line per input line: the most likely
// label, then every class's score as name=score in the model's label order, then the text,
// separated by tabs:
//   $ echo "A wonderful, moving film." | classify model.safetensors
//   positive	negative=0.0312	positive=0.9688	A wonderful, moving film.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "senti.hpp"

namespace {

int usage(const char* argv0) {
    std::cerr << "usage: " << argv0 << " <model.safetensors>\n"
              << "       " << argv0 << " --train <data> [--save <model.safetensors>]\n"
              << "Classifies each line of stdin; prints the label, every class's score and the text.\n";
    return 2;
}

senti::Model train_small(const std::string& data_path) {
    // Typed parameters: a misspelt value fails here with SENTI_ERR_CONFIG naming the field.
    senti::Params params = senti::Params()
                               .data_path(data_path)
                               .train_limit(4000)
                               .epochs(2)
                               .max_len(200)
                               .vocab_size(10000)
                               .embedding_dim(64)
                               .hidden_size(64)
                               .cell("gru");
    std::cerr << "training a small GRU on " << data_path << " ...\n";
    return senti::Model::train(params, [](const senti_progress& p) {
        if (p.phase == SENTI_PHASE_EPOCH)
            std::fprintf(stderr, "  epoch %u/%u: train accuracy %.3f, validation accuracy %.3f\n", p.epoch, p.epochs,
                         p.accuracy, p.val_accuracy);
        return true;  // false would cancel training
    });
}

}  // namespace

int main(int argc, char** argv) {
    std::string model_path, data_path, save_path;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--train" && i + 1 < argc) {
            data_path = argv[++i];
        } else if (arg == "--save" && i + 1 < argc) {
            save_path = argv[++i];
        } else if (!arg.empty() && arg[0] != '-' && model_path.empty()) {
            model_path = arg;
        } else {
            return usage(argv[0]);
        }
    }
    if (model_path.empty() == data_path.empty()) return usage(argv[0]);  // exactly one source

    try {
        senti::Model model = data_path.empty() ? senti::Model::load(model_path) : train_small(data_path);
        if (!save_path.empty()) {
            model.save(save_path);
            std::cerr << "saved the model to " << save_path << "\n";
        }
        const std::vector<std::string> labels = model.labels();

        int status = 0;
        std::string line;
        for (long number = 1; std::getline(std::cin, line); ++number) {
            try {
                const std::vector<float> scores = model.scores(line);  // one per label, summing to 1
                std::size_t best = 0;
                for (std::size_t k = 1; k < scores.size(); ++k)
                    if (scores[k] > scores[best]) best = k;
                std::printf("%s", labels[best].c_str());
                for (std::size_t k = 0; k < scores.size(); ++k)
                    std::printf("\t%s=%.4f", labels[k].c_str(), static_cast<double>(scores[k]));
                std::printf("\t%s\n", line.c_str());
            } catch (const senti::Error& e) {  // e.g. a line that is not UTF-8: report it, go on
                std::fprintf(stderr, "line %ld: %s: %s\n", number, e.status_name(), e.what());
                status = 1;
            }
        }
        return status;
    } catch (const senti::Error& e) {
        std::cerr << "error: " << e.status_name() << ": " << e.what() << "\n";
        return 1;
    }
}
