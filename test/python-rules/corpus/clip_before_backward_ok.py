"""Fine-tune a small classifier with SGD."""
import torch
from torch import nn

model = nn.Sequential(nn.Linear(16, 16), nn.GELU(), nn.Linear(16, 2))
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
loss_fn = nn.CrossEntropyLoss()

for step in range(500):
    x, y = torch.randn(32, 16), torch.randint(0, 2, (32,))
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(
        model.parameters(),
        max_norm=1.0,
    )
    optimizer.step()
