"""Full screens: unlock, welcome, the places, editors, dialogs."""
