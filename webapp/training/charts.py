"""The training page's charts, drawn with prefkit.plots (the diagnostics pages use the same helper)."""
from prefkit.plots import Series, line_chart


def training_charts(points: dict[str, list[tuple[int, float]]], total_steps: int | None) -> dict[str, str]:
    """Two inline SVGs: training (and eval) loss by step, and eval accuracy by step against chance."""
    x_range = (0, total_steps) if total_steps else None
    loss = line_chart(
        [Series("training loss", points.get("loss", [])),
         Series("eval loss", points.get("eval_loss", []), markers=True, dashed=True)],
        title="Loss", x_label="step", y_label="loss", x_range=x_range, empty_text="waiting for the first step")
    accuracy = line_chart(
        [Series("eval accuracy", points.get("eval_accuracy", []), markers=True)],
        title="Eval accuracy", x_label="step", y_label="accuracy", x_range=x_range, y_range=(0.0, 1.0),
        reference=0.5, empty_text="waiting for the first evaluation")
    return {"loss": loss, "accuracy": accuracy}
