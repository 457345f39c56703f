"""The McCulloch-Pitts neuron (1943): boolean inputs, a threshold, no learning (notes 004).

y = 1 if S = Σ wᵢxᵢ ≥ θ and no inhibitory input is on, else 0. Run it to see the
notes' θ = 1.5 AND neuron, the rule θ ≥ n·w − p, OR, NOT, and an inhibitory input
that vetoes firing.
"""

from soma.classic import McCullochPitts, threshold_rule


def show(title, neuron):
    print(f"\n{title}: {neuron!r}")
    table = neuron.truth_table()
    names = [f"x{i + 1}" for i in range(neuron.n_inputs)]
    print("  " + "  ".join(names) + "   S   y")
    for row, s in zip(table, neuron.net_input(table[:, :-1]), strict=True):
        print("  " + "   ".join(str(v) for v in row[:-1]) + f"   {s:g}   {row[-1]}")


show("notes 004 example: w1 = w2 = 1, θ = 1.5", McCullochPitts([1, 1], threshold=1.5))

theta = threshold_rule(n=2, w=1, p=0)
print(f"\nthe rule θ ≥ n·w − p with n = 2, w = 1, p = 0 gives θ ≥ {theta:g}")
show("AND with θ = 2", McCullochPitts([1, 1], threshold=theta))
show("OR (θ = 1)", McCullochPitts.OR())
show("NOT (one inhibitory input, θ = 0)", McCullochPitts.NOT())

# notes 004: watch the football game? x1 PremierLeagueOn, x2 FriendlyGame, x3 NotHome
# (inhibitory), x4 ManUnitedPlaying; fire when at least two excitatory inputs are on
game = McCullochPitts([1, 1, 1, 1], threshold=2, inhibitory=[2])
show("football decision, x3 = NotHome inhibitory, θ = 2", game)
print("\nwhenever x3 = 1 the neuron stays silent, whatever the other inputs are")
