"""Train a small MLP classifier on synthetic data with a plain PyTorch loop."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset
from gradlens_logger import GradLensLogger


class MLP(nn.Module):
    def __init__(self, inputs: int, hidden: int, classes: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(inputs, hidden), nn.ReLU(), nn.Linear(hidden, classes))

    def forward(self, x):
        return self.net(x)


def train(epochs: int = 5) -> None:
    features = torch.randn(1024, 32)
    labels = torch.randint(0, 4, (1024,))
    loader = DataLoader(TensorDataset(features, labels), batch_size=64, shuffle=True)
    model = MLP(32, 128, 4)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.01)
    criterion = nn.CrossEntropyLoss()
    grad_logger = GradLensLogger("gradlens.jsonl", model, optimizer=optimizer, max_norm=1.0)
    for epoch in range(epochs):
        model.train()
        for batch, (x, y) in enumerate(loader):
            optimizer.zero_grad()
            logits = model(x)
            loss = criterion(logits, y)
            loss.backward()
            grad_logger.log(epoch * len(loader) + batch, loss)
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
            optimizer.step()
            if batch % 10 == 0:
                print(f"epoch {epoch} batch {batch} loss {loss.item():.4f}")


if __name__ == "__main__":
    train()
