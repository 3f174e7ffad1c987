"""Vanilla RNN regression with gradient accumulation, no clipping."""
import torch


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = torch.nn.RNN(3, 24, batch_first=True)
        self.out = torch.nn.Linear(24, 1)

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.out(y[:, -1])


def make_optimizer(net):
    return torch.optim.Adam(net.parameters(), lr=1e-2)


def batches(count):
    for _ in range(count):
        yield torch.randn(4, 30, 3), torch.randn(4, 1)


def train(net, steps=12, accumulate=2):
    opt = make_optimizer(net)
    micro_batches = 0
    for x, target in batches(steps * accumulate):
        loss = torch.nn.functional.mse_loss(net(x), target) / accumulate
        loss.backward()
        micro_batches += 1
        if micro_batches % accumulate == 0:
            opt.step()
            opt.zero_grad()


if __name__ == "__main__":
    torch.manual_seed(0)
    train(Model())
