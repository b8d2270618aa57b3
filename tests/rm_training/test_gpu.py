"""CUDA check: skipped without a GPU (CI has none); run it where one is present."""
import pytest

from rm_training.score import score
from rm_training.data import load_pairs
from rm_training.train import train

from .conftest import export_folder
from .test_training import tiny_config


@pytest.mark.gpu
def test_it_trains_and_scores_on_cuda(tmp_path):
    dataset = export_folder(tmp_path / "export", n_train=48, n_test=16)
    result = train(tiny_config(dataset, tmp_path / "model"))
    assert result.record["environment"]["device"].startswith("cuda")
    assert result.record["eval"]["accuracy"] >= 0.9
    scored = score(result.output_dir, load_pairs(dataset).test)
    assert scored.summary["accuracy"] == pytest.approx(result.record["eval"]["accuracy"], abs=0.07)
    with pytest.raises(ValueError, match="int8 quantization is for scoring on a CPU"):
        score(result.output_dir, load_pairs(dataset).test, quantize="int8")
