# Sequence classifier trained with automatic mixed precision (AMP).
# On a machine without CUDA the scaler and autocast are disabled and this
# runs in float32, with the same code path.
import torch
from torch import nn

device = "cuda" if torch.cuda.is_available() else "cpu"
use_amp = device == "cuda"
torch.manual_seed(0)

model = nn.Sequential(
    nn.Flatten(),
    nn.Linear(10 * 4, 64),
    nn.ReLU(),
    nn.Linear(64, 2),
).to(device)
opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
scaler = torch.cuda.amp.GradScaler(enabled=use_amp)
loss_fn = nn.CrossEntropyLoss()

global_step = 0
for epoch in range(3):
    for _ in range(8):
        x = torch.randn(16, 10, 4, device=device)
        y = (x[:, :, 0].sum(1) > 0).long()
        with torch.autocast(device_type=device, enabled=use_amp):
            logits = model(x)
            loss = loss_fn(logits, y)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        scaler.step(opt)
        scaler.update()
        scheduler.step()
        global_step += 1
    print(f"epoch {epoch}: loss {loss.item():.4f}")
