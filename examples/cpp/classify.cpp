// classify: sentiment of each line read from stdin, with libsenti's C++ wrapper (senti.hpp).
//
//   classify <model.safetensors>                          use a saved model
//   classify --train <reviews.json> [--save <model>]      train a tiny model first (seconds)
//
// Prints one line per input line: probability<TAB>label<TAB>text, where the probability is that
// the review is positive and the label is "positive" above 0.5, else "negative".
//   echo "A wonderful, moving film." | classify model.safetensors
#include <cstdio>
#include <iostream>
#include <string>

#include "senti.hpp"

namespace {

int usage(const char* argv0) {
    std::cerr << "usage: " << argv0 << " <model.safetensors>\n"
              << "       " << argv0 << " --train <reviews.json> [--save <model.safetensors>]\n"
              << "Classifies each line of stdin; prints probability, label and text.\n";
    return 2;
}

// Paths go into the training parameters as JSON strings.
std::string json_string(const std::string& s) {
    std::string out = "\"";
    for (const char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

senti::Model train_tiny(const std::string& data_path) {
    const std::string params = "{\"data_path\": " + json_string(data_path) +
                               ", \"train_limit\": 4000, \"epochs\": 2, \"max_len\": 200, \"vocab_size\": 10000,"
                               " \"embedding_dim\": 64, \"hidden_size\": 64, \"cell\": \"gru\"}";
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
        senti::Model model = data_path.empty() ? senti::Model::load(model_path) : train_tiny(data_path);
        if (!save_path.empty()) {
            model.save(save_path);
            std::cerr << "saved the model to " << save_path << "\n";
        }

        int status = 0;
        std::string line;
        for (long number = 1; std::getline(std::cin, line); ++number) {
            try {
                const float p = model.predict(line);
                std::printf("%.4f\t%s\t%s\n", static_cast<double>(p), p > 0.5f ? "positive" : "negative",
                            line.c_str());
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
