#pragma once
// The training loss (binary cross-entropy on logits plus soft Dice on probabilities) and the scores of
// a set of image/mask pairs (per-image Dice and IoU of the mask thresholded at 0.5).
#include <vector>

#include <pgg/pgg.hpp>

#include "data.hpp"
#include "model.hpp"

namespace cxr_unet {

// BCE(logits, t) + dice_weight * softDice(sigmoid(logits), t); d loss / d logits in `grad`.
inline double segmentation_loss(const Tensor<float>& logits, const Tensor<float>& targets, double dice_weight, Tensor<float>& grad) {
    Tensor<float> g_bce, g_dice;
    const double bce = pgg::nn::bce_with_logits(logits, targets, g_bce);
    if (dice_weight == 0) {
        grad = g_bce;
        return bce;
    }
    const Tensor<float> p = pgg::sigmoid(logits);
    const double dice = pgg::nn::soft_dice(p, targets, g_dice);
    grad.resize_(logits.shape()) = g_bce + float(dice_weight) * g_dice * p * (1.0f - p);
    return bce + dice_weight * dice;
}

struct PairScore {
    double dice = 0, iou = 0, loss = 0;
};

// Scores of the pairs `which` (batches of `batch`; `samples` > 1: Monte-Carlo dropout means).
inline std::vector<PairScore> score_pairs(Model& m, const Pairs& pairs, const std::vector<index_t>& which, index_t batch,
                                          double dice_weight, int samples = 1, const char* label = nullptr) {
    std::vector<PairScore> out(which.size());
    const index_t S = pairs.size, n = index_t(which.size());
    std::unique_ptr<pgg::Progress> progress;
    if (label) progress = std::make_unique<pgg::Progress>(label, long(n));
    for (index_t b0 = 0; b0 < n; b0 += batch) {
        const index_t nb = std::min(batch, n - b0);
        Tensor<float> x({nb, 1, S, S}), t({nb, 1, S, S}), grad;
        for (index_t i = 0; i < nb; ++i) {
            std::copy_n(pairs.images[which[b0 + i]].data(), S * S, x.data() + i * S * S);
            std::copy_n(pairs.masks[which[b0 + i]].data(), S * S, t.data() + i * S * S);
        }
        m.train(false);
        const Tensor<float>& logits = m.forward(x);
        const double loss = segmentation_loss(logits, t, dice_weight, grad);
        const Tensor<float> p = samples > 1 ? predict(m, x, samples) : Tensor<float>(pgg::sigmoid(logits));
        for (index_t i = 0; i < nb; ++i) {
            const Tensor<float> pi = p.slice(i, i + 1), ti = t.slice(i, i + 1);
            out[b0 + i] = {pgg::metrics::dice(pi, ti), pgg::metrics::iou(pi, ti), loss};
        }
        if (progress) progress->advance(nb);
    }
    return out;
}

inline double mean_of(const std::vector<PairScore>& s, double PairScore::*field) {
    double total = 0;
    for (const auto& v : s) total += v.*field;
    return s.empty() ? 0 : total / double(s.size());
}

} // namespace cxr_unet
