"""The safety plan: its items and phrases (plan.py), the phrase matching (phrases.py),
what opens it (triggers.py) and the crisis card kept outside the encryption
(crisis_card.py)."""
