"""Training recipes for the end-to-end parity tests, each written once against a framework module ``T``.

Every recipe is ordinary PyTorch code: ``T`` is either ``torch`` or ``ember`` and nothing else changes,
which is exactly Ember's promise (``import ember as torch``).  A recipe provides

- ``build(T)`` -> the model (freshly initialised; the test copies torch's weights into Ember's model),
- ``optim(T, model)`` -> ``(optimizer, scheduler or None)``,
- ``step(T, model, opt, sched, batch)`` -> the loss tensor of one training step (the step is taken),
- ``batches(rng, n)`` -> ``n`` NumPy batches (tuples of arrays) fed identically to both frameworks.
"""
from __future__ import annotations

import numpy as np


def _t(T, a):
    """A NumPy array as a tensor of framework ``T`` (a copy, so neither side can alias the other)."""
    return T.tensor(np.array(a, copy=True))


def _classifier_step(T, model, opt, sched, batch):
    """One step of plain classification: cross entropy of ``model(x)`` against integer labels ``y``."""
    x, y = _t(T, batch[0]), _t(T, batch[1])
    opt.zero_grad()
    loss = T.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    return loss


# ----------------------------------------------------------------------------------------------
# 1. MLP classifier: Linear/ReLU/Dropout, CrossEntropyLoss, SGD + momentum + weight decay, StepLR
# ----------------------------------------------------------------------------------------------

class MLP:
    n_in, n_hidden, n_classes, batch = 20, 32, 5, 16

    @staticmethod
    def build(T, p_drop=0.0):
        nn = T.nn
        return nn.Sequential(
            nn.Linear(MLP.n_in, MLP.n_hidden), nn.ReLU(), nn.Dropout(p_drop),
            nn.Linear(MLP.n_hidden, MLP.n_hidden), nn.ReLU(), nn.Dropout(p_drop),
            nn.Linear(MLP.n_hidden, MLP.n_classes))

    @staticmethod
    def optim(T, model):
        opt = T.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
        return opt, T.optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.5)

    @staticmethod
    def step(T, model, opt, sched, batch):
        x, y = _t(T, batch[0]), _t(T, batch[1])
        opt.zero_grad()
        loss = T.nn.CrossEntropyLoss()(model(x), y)
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        return loss

    @staticmethod
    def batches(rng, n):
        return [(rng.standard_normal((MLP.batch, MLP.n_in)).astype(np.float32),
                 rng.integers(0, MLP.n_classes, MLP.batch)) for _ in range(n)]


# ----------------------------------------------------------------------------------------------
# 2. Small CNN: Conv2d/BatchNorm2d/ReLU/MaxPool2d/AdaptiveAvgPool2d/Flatten/Linear with Adam
# ----------------------------------------------------------------------------------------------

class CNN:
    batch, channels, size, n_classes = 4, 3, 10, 6
    # Convolutions feeding a BatchNorm have no bias (as in torchvision's ResNets): BatchNorm subtracts the
    # channel mean, so such a bias has an exactly-zero gradient and Adam would turn its rounding noise into
    # arbitrary (and framework-dependent) updates of a parameter that does not affect the output.

    @staticmethod
    def build(T):
        nn = T.nn
        return nn.Sequential(
            nn.Conv2d(CNN.channels, 6, 3, padding=1, bias=False), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2),
            # this one keeps its bias: the BatchNorm comes after the ReLU, so the bias matters
            nn.Conv2d(6, 8, 3, stride=1, padding=1), nn.ReLU(), nn.BatchNorm2d(8),
            nn.AdaptiveAvgPool2d((2, 2)), nn.Flatten(), nn.Linear(8 * 4, CNN.n_classes))

    @staticmethod
    def optim(T, model):
        return T.optim.Adam(model.parameters(), lr=3e-3, betas=(0.9, 0.99), weight_decay=1e-4), None

    step = staticmethod(_classifier_step)

    @staticmethod
    def batches(rng, n):
        shape = (CNN.batch, CNN.channels, CNN.size, CNN.size)
        return [(rng.standard_normal(shape).astype(np.float32),
                 rng.integers(0, CNN.n_classes, CNN.batch)) for _ in range(n)]


# ----------------------------------------------------------------------------------------------
# 3. Transformer encoder token classifier: Embedding + positional Parameter, 2 layers (batch_first,
#    dropout 0), key padding mask, CrossEntropyLoss(ignore_index, label_smoothing), AdamW, clip_grad_norm_
# ----------------------------------------------------------------------------------------------

class TransformerTagger:
    vocab, d_model, nhead, ff, seq, batch, pad = 11, 16, 2, 32, 7, 3, 0
    # The key part of each attention in_proj_bias adds the same number to every score of a query row, which
    # softmax cancels: its exact gradient is zero, what autograd returns is float rounding noise, and AdamW
    # normalises that noise into lr-sized, framework-dependent steps that never change the output.  The
    # tests check that this slice's gradient is noise in both frameworks and compare everything else.
    gauge = {"encoder.layers.0.self_attn.in_proj_bias": slice(16, 32),   # [d_model, 2 * d_model)
             "encoder.layers.1.self_attn.in_proj_bias": slice(16, 32)}

    @staticmethod
    def build(T):
        nn = T.nn
        c = TransformerTagger

        class Tagger(nn.Module):
            def __init__(self):
                super().__init__()
                self.embed = nn.Embedding(c.vocab, c.d_model, padding_idx=c.pad)
                self.pos = nn.Parameter(T.randn(1, c.seq, c.d_model) * 0.1)
                layer = nn.TransformerEncoderLayer(c.d_model, c.nhead, dim_feedforward=c.ff, dropout=0.0,
                                                   batch_first=True)
                self.encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
                self.head = nn.Linear(c.d_model, c.vocab)

            def forward(self, tokens):
                h = self.embed(tokens) + self.pos[:, :tokens.shape[1]]
                h = self.encoder(h, src_key_padding_mask=tokens == c.pad)
                return self.head(h)

        return Tagger()

    @staticmethod
    def optim(T, model):
        return T.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.05), None

    @staticmethod
    def step(T, model, opt, sched, batch):
        c = TransformerTagger
        tokens, targets = _t(T, batch[0]), _t(T, batch[1])
        opt.zero_grad()
        logits = model(tokens)
        loss = T.nn.CrossEntropyLoss(ignore_index=c.pad, label_smoothing=0.1)(
            logits.reshape(-1, c.vocab), targets.reshape(-1))
        loss.backward()
        # max_norm small enough that clipping really happens on most steps
        T.nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5)
        opt.step()
        return loss

    @staticmethod
    def batches(rng, n):
        c = TransformerTagger
        out = []
        for _ in range(n):
            tokens = rng.integers(1, c.vocab, (c.batch, c.seq))
            lengths = np.array([c.seq, c.seq - 2, c.seq - 4])
            tokens[np.arange(c.seq)[None, :] >= lengths[:, None]] = c.pad
            targets = np.roll(tokens, -1, axis=1)           # predict the next token; pads are ignored
            targets[:, -1] = c.pad
            out.append((tokens, targets))
        return out


# ----------------------------------------------------------------------------------------------
# 4. LSTM sequence classifier: 2 layers, bidirectional, batch_first, RMSprop (centered, momentum)
# ----------------------------------------------------------------------------------------------

class LSTMClassifier:
    n_in, hidden, n_classes, seq, batch = 5, 8, 3, 6, 4

    @staticmethod
    def build(T):
        nn = T.nn
        c = LSTMClassifier

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm = nn.LSTM(c.n_in, c.hidden, num_layers=2, bidirectional=True, batch_first=True)
                self.fc = nn.Linear(4 * c.hidden, c.n_classes)

            def forward(self, x):
                out, (h_n, c_n) = self.lstm(x)
                # last time step of the top layer (both directions) + the top layer's final cell states
                feats = T.cat([out[:, -1], c_n[-2:].transpose(0, 1).reshape(x.shape[0], -1)], dim=1)
                return self.fc(feats)

        return Net()

    @staticmethod
    def optim(T, model):
        return T.optim.RMSprop(model.parameters(), lr=5e-3, alpha=0.95, momentum=0.5, centered=True), None

    step = staticmethod(_classifier_step)

    @staticmethod
    def batches(rng, n):
        c = LSTMClassifier
        return [(rng.standard_normal((c.batch, c.seq, c.n_in)).astype(np.float32),
                 rng.integers(0, c.n_classes, c.batch)) for _ in range(n)]


# ----------------------------------------------------------------------------------------------
# 5. GRU language model on variable-length sequences: pack_padded_sequence (unsorted), pad_packed_sequence
# ----------------------------------------------------------------------------------------------

class GRULanguageModel:
    vocab, emb, hidden, seq, batch, pad = 13, 8, 12, 8, 4, 0

    @staticmethod
    def build(T):
        nn = T.nn
        c = GRULanguageModel

        class LM(nn.Module):
            def __init__(self):
                super().__init__()
                self.embed = nn.Embedding(c.vocab, c.emb, padding_idx=c.pad)
                self.gru = nn.GRU(c.emb, c.hidden, num_layers=2, batch_first=True)
                self.out = nn.Linear(c.hidden, c.vocab)

            def forward(self, tokens, lengths):
                packed = nn.utils.rnn.pack_padded_sequence(self.embed(tokens), lengths, batch_first=True,
                                                           enforce_sorted=False)
                out, h_n = self.gru(packed)
                out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=tokens.shape[1])
                return self.out(out), h_n

        return LM()

    @staticmethod
    def optim(T, model):
        return T.optim.Adam(model.parameters(), lr=1e-2, amsgrad=True), None

    @staticmethod
    def step(T, model, opt, sched, batch):
        c = GRULanguageModel
        tokens, targets, lengths = _t(T, batch[0]), _t(T, batch[1]), _t(T, batch[2])
        opt.zero_grad()
        logits, h_n = model(tokens, lengths)
        loss = T.nn.functional.cross_entropy(logits.reshape(-1, c.vocab), targets.reshape(-1),
                                             ignore_index=c.pad)
        # a small penalty on the final hidden state makes h_n's gradient path count too
        loss = loss + 1e-2 * h_n.pow(2).mean()
        loss.backward()
        opt.step()
        return loss

    @staticmethod
    def batches(rng, n):
        c = GRULanguageModel
        out = []
        for _ in range(n):
            lengths = rng.permutation(np.array([c.seq, c.seq - 1, 5, 3]))   # unsorted on purpose
            tokens = rng.integers(1, c.vocab, (c.batch, c.seq))
            tokens[np.arange(c.seq)[None, :] >= lengths[:, None]] = c.pad
            targets = np.roll(tokens, -1, axis=1)
            targets[np.arange(c.seq)[None, :] >= lengths[:, None] - 1] = c.pad
            out.append((tokens, targets, lengths.astype(np.int64)))
        return out


# ----------------------------------------------------------------------------------------------
# 6. Gradient accumulation over micro-batches through a custom autograd.Function inside the model
# ----------------------------------------------------------------------------------------------

def make_custom_functions(T):
    """Two user-written Functions: a linear layer with a hand-written backward (the PyTorch docs'
    classic example, honouring ``needs_input_grad``) and a smooth activation (squareplus)."""

    class MyLinear(T.autograd.Function):
        @staticmethod
        def forward(ctx, x, weight, bias):
            ctx.save_for_backward(x, weight)
            return x.mm(weight.t()) + bias

        @staticmethod
        def backward(ctx, grad_out):
            x, weight = ctx.saved_tensors
            gx = gw = gb = None
            if ctx.needs_input_grad[0]:
                gx = grad_out.mm(weight)
            if ctx.needs_input_grad[1]:
                gw = grad_out.t().mm(x)
            if ctx.needs_input_grad[2]:
                gb = grad_out.sum(0)
            return gx, gw, gb

    class SquarePlus(T.autograd.Function):
        """(x + sqrt(x^2 + b)) / 2; saves its output-independent helper sqrt(x^2 + b)."""

        @staticmethod
        def forward(ctx, x, b):
            root = (x * x + b).sqrt()
            ctx.save_for_backward(x, root)
            return (x + root) / 2

        @staticmethod
        def backward(ctx, grad_out):
            x, root = ctx.saved_tensors
            return grad_out * (1 + x / root) / 2, None

    return MyLinear, SquarePlus


class CustomFunctionAccum:
    n_in, hidden, n_out, micro, accum = 6, 10, 2, 5, 3

    @staticmethod
    def build(T):
        nn = T.nn
        c = CustomFunctionAccum
        MyLinear, SquarePlus = make_custom_functions(T)

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.w1 = nn.Parameter(T.randn(c.hidden, c.n_in) * 0.3)
                self.b1 = nn.Parameter(T.zeros(c.hidden))
                self.norm = nn.LayerNorm(c.hidden)
                self.fc = nn.Linear(c.hidden, c.n_out)

            def forward(self, x):
                h = SquarePlus.apply(MyLinear.apply(x, self.w1, self.b1), 4.0)
                return self.fc(self.norm(h))

        return Net()

    @staticmethod
    def optim(T, model):
        return T.optim.SGD(model.parameters(), lr=0.05, momentum=0.8, nesterov=True), None

    @staticmethod
    def step(T, model, opt, sched, batch):
        """One optimizer step from ``accum`` micro-batches; gradients accumulate in ``.grad``."""
        c = CustomFunctionAccum
        xs, ys = batch
        opt.zero_grad()
        total = 0.0
        for i in range(c.accum):
            x, y = _t(T, xs[i]), _t(T, ys[i])
            loss = T.nn.functional.mse_loss(model(x), y) / c.accum
            loss.backward()
            total = total + loss.detach()
        opt.step()
        return total

    @staticmethod
    def batches(rng, n):
        c = CustomFunctionAccum
        return [(rng.standard_normal((c.accum, c.micro, c.n_in)).astype(np.float32),
                 rng.standard_normal((c.accum, c.micro, c.n_out)).astype(np.float32)) for _ in range(n)]


RECIPES = {
    "mlp": MLP,
    "cnn": CNN,
    "transformer": TransformerTagger,
    "lstm": LSTMClassifier,
    "gru_packed": GRULanguageModel,
    "custom_function_accum": CustomFunctionAccum,
}


# ----------------------------------------------------------------------------------------------
# Variants: many layers, losses, optimizers and schedulers, each trained a few steps (float64 in the tests).
# A variant is (build(T), optim(T, model) -> (opt, sched), data(rng) -> arrays, loss(T, model, *tensors)).
# Optimizers that normalise the step (Adam family) are only paired with models without "gauge"
# parameters (a bias before BatchNorm, attention key biases), whose exact gradient is zero.
# ----------------------------------------------------------------------------------------------

def _mlp(T):
    return T.nn.Sequential(T.nn.Linear(6, 8), T.nn.Tanh(), T.nn.Linear(8, 4))


def _ce(T, m, x, y):
    return T.nn.functional.cross_entropy(m(x), y)


def _cls_data(shape, n):
    return lambda rng: (rng.standard_normal(shape), rng.integers(0, n, shape[0]))


def _sgd(T, m):
    return T.optim.SGD(m.parameters(), lr=0.05, momentum=0.9), None


def _optimizer(name, **kw):
    return lambda T, m: (getattr(T.optim, name)(m.parameters(), **kw), None)


def _scheduled(name, **kw):
    def make(T, m):
        opt = T.optim.SGD(m.parameters(), lr=0.05, momentum=0.9)
        return opt, getattr(T.optim.lr_scheduler, name)(opt, **kw)
    return make


def _conv2d_net(T):
    nn = T.nn
    return nn.Sequential(
        nn.Conv2d(4, 8, 3, stride=2, padding=2, dilation=2, groups=2), nn.GroupNorm(4, 8), nn.SiLU(),
        nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1), nn.BatchNorm2d(4), nn.LeakyReLU(0.1),
        nn.AvgPool2d(2, ceil_mode=True, count_include_pad=False), nn.Conv2d(4, 6, 1), nn.AdaptiveMaxPool2d(1),
        nn.Flatten(), nn.Linear(6, 3))


def _conv1d_net(T):
    nn = T.nn
    return nn.Sequential(
        nn.Conv1d(3, 6, 5, padding="same", padding_mode="reflect"), nn.BatchNorm1d(6), nn.ReLU(),
        nn.MaxPool1d(2, stride=2), nn.Conv1d(6, 4, 3, padding=1, padding_mode="circular"),
        nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(4, 3))


def _conv3d_net(T):
    nn = T.nn
    return nn.Sequential(nn.Conv3d(2, 4, 3, padding=1), nn.BatchNorm3d(4), nn.ELU(), nn.MaxPool3d(2),
                         nn.Flatten(), nn.Linear(4 * 8, 3))


def _seq2seq(T, **kw):
    nn = T.nn

    class Seq2Seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(10, 8)
            self.tf = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                                     dim_feedforward=16, dropout=0.0, batch_first=True, **kw)
            self.out = nn.Linear(8, 10)

        def forward(self, src, tgt):
            mask = nn.Transformer.generate_square_subsequent_mask(tgt.shape[1], dtype=self.out.weight.dtype)
            return self.out(self.tf(self.emb(src), self.emb(tgt), tgt_mask=mask, tgt_is_causal=True))

    return Seq2Seq()


def _seq2seq_data(rng):
    return rng.integers(0, 10, (2, 5)), rng.integers(0, 10, (2, 4)), rng.integers(0, 10, (2, 4))


def _seq2seq_loss(T, m, src, tgt, y):
    return T.nn.functional.cross_entropy(m(src, tgt).reshape(-1, 10), y.reshape(-1))


def _packed_rnn(T, kind, **kw):
    nn = T.nn
    directions = 2 if kw.get("bidirectional") else 1
    width = (kw.get("proj_size") or 6) * directions

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = getattr(nn, kind)(4, 6, batch_first=True, **kw)
            self.fc = nn.Linear(width, 3)

        def forward(self, x, lengths):
            packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
            out, _ = self.rnn(packed)
            out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True)
            return self.fc(out.sum(1))

    return Net()


def _rnn_data(rng):
    return rng.standard_normal((3, 5, 4)), rng.permutation(np.array([5, 2, 4])), rng.integers(0, 3, 3)


def _rnn_loss(T, m, x, lengths, y):
    return T.nn.functional.cross_entropy(m(x, lengths), y)


def _tied_embeddings(T):
    nn = T.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(10, 6, max_norm=1.0)      # renormalises looked-up rows in place
            self.bag = nn.EmbeddingBag(10, 6, mode="mean")
            self.out = nn.Linear(6, 10, bias=False)
            self.out.weight = self.emb.weight                 # tied: one parameter, two state_dict keys

        def forward(self, t):
            return self.out(self.emb(t).mean(1) + self.bag(t))

    return Net()


_CLASS_WEIGHT = np.array([0.5, 1.0, 2.0, 1.5])


def _weighted_ce(T, m, x, y):
    w = T.tensor(_CLASS_WEIGHT, dtype=x.dtype)
    return T.nn.CrossEntropyLoss(weight=w, ignore_index=2, label_smoothing=0.2)(m(x), y)


def _regression_losses(T, m, x, y):
    out = m(x)
    return (T.nn.HuberLoss(delta=0.5)(out, y) + T.nn.SmoothL1Loss(beta=0.3)(out, y)
            + T.nn.KLDivLoss(reduction="batchmean")(T.log_softmax(out, 1), T.softmax(y, 1))
            + T.nn.BCEWithLogitsLoss(pos_weight=T.tensor(_CLASS_WEIGHT, dtype=x.dtype))(out, T.sigmoid(y)))


def _two_groups(T, m):
    groups = [{"params": m[0].parameters(), "lr": 1e-2}, {"params": m[2].parameters(), "weight_decay": 0.1}]
    return T.optim.Adam(groups, lr=1e-3), None


VARIANTS = {
    "optim_nadam_decoupled": (_mlp, _optimizer("NAdam", decoupled_weight_decay=True, weight_decay=0.1),
                              _cls_data((5, 6), 4), _ce),
    "optim_radam": (_mlp, _optimizer("RAdam", weight_decay=0.1), _cls_data((5, 6), 4), _ce),
    "optim_adagrad": (_mlp, _optimizer("Adagrad", lr_decay=0.01, weight_decay=0.1), _cls_data((5, 6), 4), _ce),
    "optim_adamax": (_mlp, _optimizer("Adamax", weight_decay=0.1), _cls_data((5, 6), 4), _ce),
    "optim_adadelta": (_mlp, _optimizer("Adadelta", weight_decay=0.1), _cls_data((5, 6), 4), _ce),
    "optim_sgd_dampening": (_mlp, _optimizer("SGD", lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.1),
                            _cls_data((5, 6), 4), _ce),
    "optim_sgd_nesterov_maximize": (_mlp, _optimizer("SGD", lr=0.01, momentum=0.9, nesterov=True, maximize=True),
                                    _cls_data((5, 6), 4), _ce),
    "optim_adamw_amsgrad": (_mlp, _optimizer("AdamW", amsgrad=True), _cls_data((5, 6), 4), _ce),
    "optim_param_groups": (_mlp, _two_groups, _cls_data((5, 6), 4), _ce),
    "sched_onecycle": (_mlp, _scheduled("OneCycleLR", max_lr=0.1, total_steps=10), _cls_data((5, 6), 4), _ce),
    "sched_warm_restarts": (_mlp, _scheduled("CosineAnnealingWarmRestarts", T_0=3), _cls_data((5, 6), 4), _ce),
    "sched_plateau": (_mlp, _scheduled("ReduceLROnPlateau", patience=0, factor=0.5), _cls_data((5, 6), 4), _ce),
    "sched_cyclic": (_mlp, _scheduled("CyclicLR", base_lr=0.01, max_lr=0.1, step_size_up=2),
                     _cls_data((5, 6), 4), _ce),
    "loss_weighted_ce_smoothing_ignore": (_mlp, _sgd, _cls_data((7, 6), 4), _weighted_ce),
    "loss_regression_mix": (_mlp, _sgd, lambda rng: (rng.standard_normal((5, 6)), rng.standard_normal((5, 4))),
                            _regression_losses),
    "conv2d_groups_dilation_transpose": (_conv2d_net, _sgd, _cls_data((3, 4, 9, 9), 3), _ce),
    "conv1d_padding_modes": (_conv1d_net, _sgd, _cls_data((4, 3, 12), 3), _ce),
    "conv3d": (_conv3d_net, _sgd, _cls_data((2, 2, 4, 4, 4), 3), _ce),
    "transformer_seq2seq_causal": (_seq2seq, _sgd, _seq2seq_data, _seq2seq_loss),
    "transformer_norm_first_gelu": (lambda T: _seq2seq(T, norm_first=True, activation="gelu"), _sgd,
                                    _seq2seq_data, _seq2seq_loss),
    "lstm_packed_bidirectional_proj": (lambda T: _packed_rnn(T, "LSTM", bidirectional=True, proj_size=3,
                                                             num_layers=2),
                                       _optimizer("Adam", lr=1e-2), _rnn_data, _rnn_loss),
    "gru_packed_bidirectional": (lambda T: _packed_rnn(T, "GRU", bidirectional=True, num_layers=2),
                                 _optimizer("Adam", lr=1e-2), _rnn_data, _rnn_loss),
    "rnn_relu_packed": (lambda T: _packed_rnn(T, "RNN", nonlinearity="relu", num_layers=2),
                        _optimizer("Adam", lr=1e-2), _rnn_data, _rnn_loss),
    "tied_embedding_max_norm_bag": (_tied_embeddings, _optimizer("SGD", lr=0.1),
                                    lambda rng: (rng.integers(0, 10, (3, 4)), rng.integers(0, 10, 3)), _ce),
}
