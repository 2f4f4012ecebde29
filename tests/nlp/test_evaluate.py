"""The bootstrap intervals `reviewlens evaluate` prints beside micro-F1 and the negated rate."""

from __future__ import annotations

from nlp.evaluate import EvalResult, ThemeScore, format_report


def result_of(counts: list[tuple[int, int, int, int, int]]) -> EvalResult:
    tp, fp, fn, negated, negated_fp = (sum(c[i] for c in counts) for i in range(5))
    return EvalResult(
        split="dev",
        passages=len(counts),
        per_theme={},
        micro=ThemeScore(tp, fp, fn),
        negated_mentions=negated,
        negated_false_positives=negated_fp,
        stance_correct=0,
        stance_total=0,
        counts=counts,
    )


def test_identical_passages_give_no_spread() -> None:
    result = result_of([(1, 1, 0, 2, 1)] * 40)
    intervals = result.intervals()
    assert intervals["micro_f1"] == (round(result.micro.f1, 4),) * 2
    assert intervals["negated_or_passing_fp_rate"] == (0.5, 0.5)


def test_interval_brackets_the_figure_and_narrows_with_more_passages() -> None:
    mixed = [(2, 0, 0, 1, 0), (0, 1, 1, 1, 1), (1, 0, 1, 0, 0), (1, 1, 0, 2, 0)]
    small, large = result_of(mixed * 10), result_of(mixed * 250)
    for result in (small, large):
        low, high = result.intervals()["micro_f1"]
        assert low < result.micro.f1 < high
    small_low, small_high = small.intervals()["micro_f1"]
    large_low, large_high = large.intervals()["micro_f1"]
    assert large_high - large_low < (small_high - small_low) / 3


def test_intervals_are_reproducible_and_reported() -> None:
    result = result_of([(3, 1, 0, 1, 0), (0, 0, 2, 2, 1), (1, 2, 1, 0, 0)] * 20)
    assert result.intervals() == result.intervals()
    low, high = result.intervals()["micro_f1"]
    assert result.as_dict()["micro_f1_95"] == (low, high)
    assert f"{low:.3f}-{high:.3f}" in format_report(result)


def test_no_passages_no_intervals() -> None:
    assert result_of([]).intervals() == {}
