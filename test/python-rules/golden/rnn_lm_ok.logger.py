"""Word-level LSTM language model on a token stream, carrying the hidden state between batches."""
import torch
import torch.nn as nn
from gradlens_logger import GradLensLogger


def init_recurrent_weights(model):
    """Xavier input weights, orthogonal recurrent weights and zero biases for every RNN/LSTM/GRU in `model`."""
    for module in model.modules():
        if isinstance(module, torch.nn.RNNBase):
            for name, parameter in module.named_parameters():
                if name.startswith("weight_ih"):
                    torch.nn.init.xavier_uniform_(parameter)
                elif name.startswith("weight_hh"):
                    torch.nn.init.orthogonal_(parameter)
                elif name.startswith("bias"):
                    torch.nn.init.zeros_(parameter)


vocab_size, embedding_size, hidden_size, bptt, batch_size = 10000, 200, 200, 35, 20


class RNNModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Embedding(vocab_size, embedding_size)
        self.rnn = nn.LSTM(embedding_size, hidden_size, num_layers=2, dropout=0.2)
        self.decoder = nn.Linear(hidden_size, vocab_size)
        init_recurrent_weights(self)

    def forward(self, tokens, hidden):
        output, hidden = self.rnn(self.encoder(tokens), hidden)
        return self.decoder(output), hidden

    def init_hidden(self, batch):
        weight = next(self.parameters())
        return (weight.new_zeros(2, batch, hidden_size), weight.new_zeros(2, batch, hidden_size))


def batches(stream):
    for i in range(0, stream.size(0) - 1, bptt):
        length = min(bptt, stream.size(0) - 1 - i)
        yield stream[i:i + length], stream[i + 1:i + 1 + length]


model = RNNModel()
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=20)
train_data = torch.randint(0, vocab_size, (10000, batch_size))

grad_logger = GradLensLogger("gradlens.jsonl", model, optimizer=optimizer, max_norm=0.25)
grad_logger_step = 0
for epoch in range(1, 41):
    model.train()
    hidden = model.init_hidden(batch_size)
    for tokens, targets in batches(train_data):
        model.zero_grad()
        hidden = tuple(state.detach() for state in hidden)
        output, hidden = model(tokens, hidden)
        loss = criterion(output.view(-1, vocab_size), targets.view(-1))
        loss.backward()
        grad_logger.log(grad_logger_step, loss)
        grad_logger_step += 1
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.25)
        optimizer.step()
