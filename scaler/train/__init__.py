"""Training on verl: the static export, the reward function (the curriculum bridge follows)."""
