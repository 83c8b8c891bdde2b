#!/usr/bin/env python3
"""A critic in Python, side by side with the plain method.

The bundled model writes phone numbers under a regex; a twenty-line critic
forbids a digit repeated twice in a row (as soon as it appears: -inf on the
prefix) and prefers numbers ending in 0 (+3 nats on the complete text).

    PYTHONPATH=build/python python3 examples/python_critic.py
"""
import math

import smcgen


class NoDoubleDigits(smcgen.Critic):
    """log-weight: -inf with a doubled digit; +3 for a number ending in 0."""

    def prefix(self, text: str) -> float:
        digits = [c for c in text if c.isdigit()]
        return -math.inf if any(a == b for a, b in zip(digits, digits[1:])) else 0.0

    def complete(self, text: str) -> float:
        return self.prefix(text) + (3.0 if text.endswith("0") else 0.0)


model = smcgen.Model()
phone = smcgen.Grammar.regex("[0-9]{3}-[0-9]{4}")
critic = NoDoubleDigits()
runs = {"plain smc (grammar only)": smcgen.smc(model, "Phone: ", phone, method="smc", particles=40, seed=3),
        "smc-full + Python critic": smcgen.smc(model, "Phone: ", phone, critic, particles=40, seed=3)}
for name, post in runs.items():
    ok = sum(p for t, p in post.items() if critic.prefix(t) == 0)
    zero = sum(p for t, p in post.items() if t.endswith("0"))
    print(f"{name}: log Z {post.log_z:.2f}, P(no doubled digit) {ok:.2f}, P(ends in 0) {zero:.2f}")
    for text, p in list(post.items())[:4]:
        print(f"    {p:.3f}  {text}")
