#!/usr/bin/env python3
# A deep MLP on random data, trained for a few epochs over a DataLoader.
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def build(depth=8, width=32):
    layers = [torch.nn.Linear(20, width), torch.nn.Tanh()]
    for _ in range(depth):
        layers += [torch.nn.Linear(width, width), torch.nn.Tanh()]
    return torch.nn.Sequential(*layers, torch.nn.Linear(width, 3))


torch.manual_seed(0)
data = TensorDataset(torch.randn(96, 20), torch.randint(0, 3, (96,)))
loader = DataLoader(data, batch_size=32, shuffle=True)
net = build()
optimizer = torch.optim.SGD(net.parameters(), lr=0.1)

for epoch in range(3):
    for features, labels in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(net(features), labels)
        loss.backward()
        torch.nn.utils.clip_grad_value_(net.parameters(), 0.5)
        optimizer.step()
    print("epoch", epoch, "loss", round(loss.item(), 4))
