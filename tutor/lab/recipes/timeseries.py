"""Forecasting a real series with an LSTM, judged against the forecasts anyone can make for free.

The data are real measurements that statsmodels ships: Mauna Loa CO2 (weekly 1958-2001,
averaged to months, the few missing weeks interpolated) or yearly sunspot numbers (1700-2008).
What the recipe teaches is forecasting hygiene as much as LSTMs:

* the split is chronological (train on the past, validate on the next stretch, test on the
  most recent one): shuffling time would leak the future into training;
* the normalisation (mean, std) is fitted on the training years only, for the same reason;
* each input window is shifted so its last value is 0 and the net predicts the *change* from
  that last value; CO2 rises every year, so test values lie above anything seen in training,
  and a net asked for absolute levels would have to extrapolate out of its tanh range;
* a forecaster is only worth something if it beats the naive forecasts: "same as the last
  value" and, for a seasonal series, "same as one season ago". ``skill`` = 1 - MAE / naive MAE
  is > 0 only when the LSTM wins.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch
from torch import nn

from tutor.lab.base import Recipe, RunContext, register
from tutor.lab.cards.timeseries import CARD, TimeseriesParams

_SERIES = {
    # name: (label, units, season length in steps or None)
    "co2": ("Mauna Loa CO2, monthly", "ppm", 12),
    "sunspots": ("Sunspot number, yearly", "sunspots", None),
}


def load_series(name: str) -> tuple[np.ndarray, np.ndarray]:
    """(values, time axis as decimal years) of one statsmodels series."""
    # The datasets subpackage alone: statsmodels.api would import all of statsmodels (~6 s).
    from statsmodels.datasets import co2, sunspots

    if name == "co2":
        weekly = co2.load_pandas().data["co2"]
        # Months are the natural unit for a yearly cycle; 59 weeks are missing, so the month
        # means have a few gaps, filled linearly from the neighbours.
        monthly = weekly.resample("MS").mean().interpolate()
        years = monthly.index.year + (monthly.index.month - 1) / 12.0
        return monthly.to_numpy(dtype=np.float64), np.asarray(years, dtype=np.float64)
    data = sunspots.load_pandas().data
    return data["SUNACTIVITY"].to_numpy(dtype=np.float64), data["YEAR"].to_numpy(dtype=np.float64)


class Forecaster(nn.Module):
    def __init__(self, hidden: int, layers: int, horizon: int):
        super().__init__()
        self.lstm = nn.LSTM(1, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, horizon)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (batch, window, 1)
        out, _ = self.lstm(x)
        return self.head(out[:, -1])  # one value per step ahead, read off the last hidden state


@register
class TimeseriesRecipe(Recipe):
    card = CARD

    def setup(self, params: TimeseriesParams, ctx: RunContext) -> None:
        self.p, self.ctx = params, ctx
        self.label, self.units, self.season = _SERIES[params.series]
        y, years = load_series(params.series)
        self.y, self.years = y, years
        n, w, h = len(y), params.window, params.horizon
        self.train_end = int(round(n * (1 - params.val_fraction - params.test_fraction)))
        self.val_end = int(round(n * (1 - params.test_fraction)))
        # Normalisation from the training years only.
        self.mean, self.std = float(y[: self.train_end].mean()), float(y[: self.train_end].std())
        z = (y - self.mean) / self.std

        # Window origins t: inputs y[t-w+1 .. t], targets y[t+1 .. t+h]. A window belongs to the
        # split that holds its LAST target, so no training target comes from validation or test.
        origins = np.arange(w - 1, n - h)
        last_target = origins + h
        self.splits = {
            "train": origins[last_target < self.train_end],
            "val": origins[(last_target >= self.train_end) & (last_target < self.val_end)],
            "test": origins[last_target >= self.val_end],
        }
        if min(len(v) for v in self.splits.values()) < 2:
            from tutor.errors import TutorError

            raise TutorError("The window and horizon leave too few forecasts in a split; use a smaller window or horizon.")

        def tensors(orig: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
            idx_in = orig[:, None] + np.arange(-w + 1, 1)[None, :]
            idx_out = orig[:, None] + np.arange(1, h + 1)[None, :]
            last = z[orig][:, None]
            x = torch.tensor(z[idx_in] - last, dtype=torch.float32).unsqueeze(-1)
            t = torch.tensor(z[idx_out] - last, dtype=torch.float32)
            return x.to(ctx.device), t.to(ctx.device)

        self.data = {k: tensors(v) for k, v in self.splits.items()}
        self.model = Forecaster(params.hidden, params.layers, h).to(ctx.device)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=params.lr)
        self.gen = torch.Generator().manual_seed(params.seed)
        self.forecast: dict[str, np.ndarray] = {}

    def _predict(self, split: str) -> np.ndarray:
        """Forecasts in the series' own units, shape (windows, horizon)."""
        self.model.eval()
        with torch.no_grad():
            change = self.model(self.data[split][0]).cpu().numpy().astype(np.float64)
        last = self.y[self.splits[split]][:, None]
        return last + change * self.std  # undo the shift and the scaling

    def _truth(self, split: str) -> np.ndarray:
        orig = self.splits[split]
        return self.y[orig[:, None] + np.arange(1, self.p.horizon + 1)[None, :]]

    def train(self) -> dict[str, float]:
        p, ctx = self.p, self.ctx
        x_tr, t_tr = self.data["train"]
        x_va, t_va = self.data["val"]
        best_val, best_state, best_epoch = float("inf"), None, 0
        for epoch in range(1, p.epochs + 1):
            self.model.train()
            order = torch.randperm(len(x_tr), generator=self.gen)
            total = 0.0
            for start in range(0, len(order), p.batch_size):
                idx = order[start : start + p.batch_size].to(x_tr.device)
                self.opt.zero_grad(set_to_none=True)
                loss = nn.functional.mse_loss(self.model(x_tr[idx]), t_tr[idx])
                loss.backward()
                # Clipping keeps an unlucky large step from blowing up the LSTM state.
                nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
                self.opt.step()
                total += loss.item() * len(idx)
            self.model.eval()
            with torch.no_grad():
                val_loss = nn.functional.mse_loss(self.model(x_va), t_va).item()
            val_mae = float(np.abs(self._predict("val") - self._truth("val")).mean())
            # Keep the weights of the best validation epoch: the test is scored with those.
            if val_loss < best_val:
                best_val, best_epoch = val_loss, epoch
                best_state = copy.deepcopy(self.model.state_dict())
            ctx.log_epoch(epoch, train_loss=total / len(x_tr), val_loss=val_loss, val_mae=val_mae)
        if best_state is not None:
            self.model.load_state_dict(best_state)

        pred, truth = self._predict("test"), self._truth("test")
        orig = self.splits["test"]
        naive = np.repeat(self.y[orig][:, None], p.horizon, axis=1)
        err = pred - truth
        metrics = {
            "test_mae": float(np.abs(err).mean()),
            "test_rmse": float(np.sqrt((err**2).mean())),
            "naive_mae": float(np.abs(naive - truth).mean()),
            "best_epoch": float(best_epoch),
        }
        metrics["skill"] = 1.0 - metrics["test_mae"] / metrics["naive_mae"]
        self.forecast = {"pred": pred, "truth": truth, "naive": naive}
        if self.season is not None and p.horizon <= self.season:
            # One season back from each target: y[t + k - season] is already observed at time t.
            seasonal = self.y[orig[:, None] + np.arange(1, p.horizon + 1)[None, :] - self.season]
            metrics["seasonal_naive_mae"] = float(np.abs(seasonal - truth).mean())
            metrics["seasonal_skill"] = 1.0 - metrics["test_mae"] / metrics["seasonal_naive_mae"]
            self.forecast["seasonal"] = seasonal
        return metrics

    def save(self) -> dict[str, str]:
        if not self.forecast:
            return {}
        from tutor.lab.plots import new_figure, save_figure

        h = self.p.horizon
        fig = new_figure(10, 6.5)
        top, bottom = fig.subplots(2, 1)
        top.plot(self.years, self.y, color="black", lw=0.8)
        for lo, hi, name, color in ((0, self.train_end, "train", "tab:blue"), (self.train_end, self.val_end, "val", "tab:orange"),
                                    (self.val_end, len(self.y) - 1, "test", "tab:green")):
            top.axvspan(self.years[lo], self.years[hi], color=color, alpha=0.12, label=name)
        top.set_title(f"{self.label}: chronological split")
        top.set_ylabel(self.units)
        top.legend(loc="upper left", fontsize=8)

        # Forecasts for the last step ahead (the hardest one), drawn at the time they forecast.
        t_years = self.years[self.splits["test"] + h]
        bottom.plot(t_years, self.forecast["truth"][:, -1], "k-", lw=1.5, label="actual")
        mae = np.abs(self.forecast["pred"] - self.forecast["truth"]).mean()
        bottom.plot(t_years, self.forecast["pred"][:, -1], "-", color="tab:red", label=f"LSTM (MAE {mae:.3g})")
        naive_mae = np.abs(self.forecast["naive"] - self.forecast["truth"]).mean()
        bottom.plot(t_years, self.forecast["naive"][:, -1], ":", color="tab:gray", label=f"last value (MAE {naive_mae:.3g})")
        if "seasonal" in self.forecast:
            s_mae = np.abs(self.forecast["seasonal"] - self.forecast["truth"]).mean()
            bottom.plot(t_years, self.forecast["seasonal"][:, -1], "--", color="tab:purple", lw=0.9,
                        label=f"one season ago (MAE {s_mae:.3g})")
        bottom.set_title(f"Test period: forecasts {h} step{'s' if h > 1 else ''} ahead")
        bottom.set_ylabel(self.units)
        bottom.legend(fontsize=8)
        return {"forecast": save_figure(fig, Path(self.ctx.run_dir) / "forecast.png")}

    def cleanup(self) -> None:
        self.model = self.opt = None
        self.data = {}
