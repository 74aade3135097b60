"""False-pass and false-fail rates of each verdict mode, by simulation.

Run from the project root: ``.venv/bin/python benchmarks/sampling_calibration.py``. A simulated
model passes each sample with a known probability; 5,000 seeded verdicts per line. Below the
threshold a pass is a false pass, above it a fail is a false fail. The strict mode (exact
interval) promises at most (1 - confidence) / 2 false passes; the observed rate promises none.
"""

from __future__ import annotations

from llmassert._checks._passrate import simulated_pass_probability

THRESHOLD = 0.8
TRIALS = 5000


def main() -> None:
    print(f"threshold {THRESHOLD:.0%}, confidence 95%, {TRIALS} seeded verdicts per cell")
    print("repeat  true rate  | rate: P(pass)  strict: P(pass)")
    for repeat in (20, 50, 100):
        for true_rate in (0.7, 0.75, 0.78, 0.8, 0.85, 0.9, 0.95):
            kind = "false pass" if true_rate <= THRESHOLD else "false fail"
            cells = []
            for verdict in ("rate", "strict"):
                if verdict == "strict" and repeat < 17:
                    cells.append("  n/a")
                    continue
                passed = simulated_pass_probability(
                    true_rate, repeat, THRESHOLD, verdict=verdict, trials=TRIALS, seed=repeat
                )
                rate = passed if true_rate <= THRESHOLD else 1 - passed
                cells.append(f"{rate:6.1%}")
            print(f"{repeat:6}  {true_rate:9.0%}  | {kind}: rate {cells[0]}  strict {cells[1]}")
    print("pass^k / pass@k (k = 10): P(pass) = p^k / 1 - (1 - p)^k")
    for p in (0.5, 0.9, 0.99):
        every = simulated_pass_probability(p, 10, verdict="pass^k", trials=TRIALS)
        anyone = simulated_pass_probability(p, 10, verdict="pass@k", trials=TRIALS)
        print(f"  p = {p:.2f}: pass^10 {every:6.1%} (exact {p**10:6.1%}), pass@10 {anyone:6.1%}")


if __name__ == "__main__":
    main()
