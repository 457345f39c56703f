"""McCulloch-Pitts neuron: the notes' AND/OR/NOT neurons, inhibition and the θ ≥ n·w − p rule."""

import numpy as np
import pytest

from soma.classic import McCullochPitts, threshold_rule

INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])


def test_notes_004_theta_1_5_is_and():
    # notes 004, "Example of M-P Neuron": w1 = w2 = 1, θ = 1.5; S = 0, 1, 1, 2 -> Y = 0, 0, 0, 1
    neuron = McCullochPitts([1, 1], threshold=1.5)
    np.testing.assert_array_equal(neuron.net_input(INPUTS), [0, 1, 1, 2])
    np.testing.assert_array_equal(neuron.predict(INPUTS), [0, 0, 0, 1])


def test_notes_004_threshold_rule_gives_and():
    # θ ≥ n·w − p with n = 2, w = 1, p = 0 gives θ ≥ 2; with θ = 2: y_in = 2, 1, 1, 0 -> 1, 0, 0, 0
    theta = threshold_rule(n=2, w=1, p=0)
    assert theta == 2.0
    neuron = McCullochPitts([1, 1], threshold=theta)
    rows = np.array([[1, 1], [1, 0], [0, 1], [0, 0]])
    np.testing.assert_array_equal(neuron.net_input(rows), [2, 1, 1, 0])
    np.testing.assert_array_equal(neuron.predict(rows), [1, 0, 0, 0])
    # any θ strictly greater than n·w − p (the notes' first, strict form) never fires here
    assert McCullochPitts([1, 1], threshold=3).predict(INPUTS).sum() == 0


def test_threshold_rule_with_inhibitory_weight():
    assert threshold_rule(n=3, w=2, p=1) == 5.0
    with pytest.raises(ValueError, match="n"):
        threshold_rule(n=0, w=1)


def test_truth_tables_of_logic_neurons():
    np.testing.assert_array_equal(McCullochPitts.AND().truth_table()[:, -1], [0, 0, 0, 1])
    np.testing.assert_array_equal(McCullochPitts.OR().truth_table()[:, -1], [0, 1, 1, 1])
    np.testing.assert_array_equal(McCullochPitts.NOT().truth_table(), [[0, 1], [1, 0]])
    table = McCullochPitts.AND(3).truth_table()
    assert table.shape == (8, 4)
    np.testing.assert_array_equal(
        table[:, :3], [[a, b, c] for a in (0, 1) for b in (0, 1) for c in (0, 1)]
    )
    np.testing.assert_array_equal(table[:, -1], [0] * 7 + [1])


def test_inhibitory_input_vetoes_firing():
    # notes 004: x3 (NotHome) = 1 means the neuron never fires, whatever the others are
    neuron = McCullochPitts([1, 1, 1, 1], threshold=1, inhibitory=[2])
    table = neuron.truth_table()
    inhibited = table[:, 2] == 1
    assert np.all(table[inhibited, -1] == 0)
    # without inhibition it is an OR of the three excitatory inputs
    excit = table[~inhibited][:, [0, 1, 3]]
    np.testing.assert_array_equal(table[~inhibited, -1], excit.any(axis=1).astype(int))


def test_bad_inputs_fail_with_clear_messages():
    neuron = McCullochPitts([1, 1], threshold=2)
    with pytest.raises(ValueError, match=r"McCullochPitts\(n_inputs=2.*\(n_samples, 2\).*\(4, 3\)"):
        neuron.predict(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="boolean"):
        neuron.predict([[0.5, 1]])
    with pytest.raises(ValueError, match="out of range"):
        McCullochPitts([1, 1], threshold=1, inhibitory=[5])


def test_single_sample_and_repr():
    neuron = McCullochPitts.AND()
    np.testing.assert_array_equal(neuron.predict([1, 1]), [1])
    assert repr(McCullochPitts.NOT()) == "McCullochPitts(n_inputs=1, threshold=0, inhibitory=(0,))"
