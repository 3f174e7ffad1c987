"""Character-level LSTM language model on a tiny built-in corpus.

Usage: python char_lstm.py [--epochs N] [--clip X]
"""
import argparse
import math

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

CORPUS = "the quick brown fox jumps over the lazy dog. " * 20


class CharLSTM(nn.Module):
    def __init__(self, vocab: int, hidden: int = 32, layers: int = 2) -> None:
        super().__init__()
        self.emb = nn.Embedding(vocab, 16)
        self.lstm = nn.LSTM(16, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x, hidden=None):
        out, hidden = self.lstm(self.emb(x), hidden)
        return self.head(out), hidden


def batches(seq_len: int, batch_size: int) -> DataLoader:
    chars = sorted(set(CORPUS))
    ids = torch.tensor([chars.index(c) for c in CORPUS])
    n = (len(ids) - 1) // seq_len
    x = ids[: n * seq_len].view(n, seq_len)
    y = ids[1 : n * seq_len + 1].view(n, seq_len)
    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=False, drop_last=True), len(chars)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--lr", type=float, default=1.0)
    parser.add_argument("--clip", type=float, default=0.25)
    args = parser.parse_args()

    torch.manual_seed(0)
    loader, vocab = batches(seq_len=20, batch_size=8)
    model = CharLSTM(vocab)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(
        model.parameters(),
        lr=args.lr,
        momentum=0.9,
    )

    model.train()
    for epoch in range(args.epochs):
        hidden = None
        for i, (x, y) in enumerate(loader):
            # Detaching would give truncated BPTT; this loop does not (yet).
            optimizer.zero_grad()
            logits, hidden = model(x, hidden)
            hidden = tuple(h.detach() for h in hidden)
            loss = criterion(logits.reshape(-1, vocab), y.reshape(-1))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            optimizer.step()
            if i % 5 == 0:
                print(f"epoch {epoch} step {i}: loss={loss.item():.4f} ppl={math.exp(loss.item()):.1f}")


if __name__ == "__main__":
    main()
