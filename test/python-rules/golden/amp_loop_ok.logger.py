"""Mixed-precision training of a convolutional classifier with torch.cuda.amp."""
import torch
from torch import nn
from torch.cuda.amp import GradScaler, autocast
from gradlens_logger import GradLensLogger

device = "cuda" if torch.cuda.is_available() else "cpu"
model = nn.Sequential(
    nn.Conv2d(3, 32, 3, padding=1),
    nn.ReLU(),
    nn.AdaptiveAvgPool2d(1),
    nn.Flatten(),
    nn.Linear(32, 10),
).to(device)
params = [p for p in model.parameters() if p.requires_grad]
optimizer = torch.optim.SGD(params, lr=0.1, momentum=0.9)
scaler = GradScaler(enabled=device == "cuda")
loss_fn = nn.CrossEntropyLoss()

grad_logger = GradLensLogger("gradlens.jsonl", model, optimizer=optimizer, max_norm=1.0, scaler=scaler)
for step in range(1000):
    images = torch.randn(16, 3, 32, 32, device=device)
    targets = torch.randint(0, 10, (16,), device=device)
    optimizer.zero_grad(set_to_none=True)
    with autocast(enabled=device == "cuda"):
        loss = loss_fn(model(images), targets)
    scaler.scale(loss).backward()
    scaler.unscale_(optimizer)
    grad_logger.log(step, loss)
    torch.nn.utils.clip_grad_norm_(params, max_norm=1.0)
    scaler.step(optimizer)
    scaler.update()
