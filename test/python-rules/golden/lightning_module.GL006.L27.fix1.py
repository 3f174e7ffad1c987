"""An autoencoder as a LightningModule, trained with the Lightning Trainer."""
import lightning as L
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class AutoEncoder(L.LightningModule):
    def __init__(self, width: int = 64) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(784, width), nn.ReLU(), nn.Linear(width, 16))
        self.decoder = nn.Sequential(nn.Linear(16, width), nn.ReLU(), nn.Linear(width, 784))

    def training_step(self, batch, batch_idx):
        (x,) = batch
        reconstruction = self.decoder(self.encoder(x))
        loss = nn.functional.mse_loss(reconstruction, x)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)


if __name__ == "__main__":
    data = DataLoader(TensorDataset(torch.rand(512, 784)), batch_size=32)
    trainer = L.Trainer(
        max_epochs=10,
        accelerator="auto",
        log_every_n_steps=10,
        gradient_clip_val=1.0
    )
    trainer.fit(AutoEncoder(), data)
