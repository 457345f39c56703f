"""Textbook models, in the order the notes meet them, with scikit-learn's fit/predict names.

=====================  =====================================================
``McCullochPitts``     boolean neuron with a fixed threshold (notes 004)
``Perceptron``         step neuron, perceptron learning rule (notes 004)
``Adaline``            linear neuron, LMS rule (notes 004)
``LogisticRegression`` sigmoid neuron, BCE with L1/L2 penalties (notes 002)
``gates``              hand-set AND/OR/NOT/XOR/XNOR networks; XOR learned
``RBM``                Bernoulli restricted Boltzmann machine, CD-k (notes 003)
``DBN``                deep belief network: stacked RBMs, greedy pretraining (notes 000)
=====================  =====================================================

NumPy arrays in and out; every model keeps its weights after each epoch in
``history_`` so a learner can watch them change.
"""

from soma.classic._validation import ConvergenceWarning  # noqa: F401  (public)
from soma.classic.adaline import *  # noqa: F403
from soma.classic.dbn import *  # noqa: F403
from soma.classic.gates import *  # noqa: F403
from soma.classic.logistic import *  # noqa: F403
from soma.classic.mcculloch_pitts import *  # noqa: F403
from soma.classic.perceptron import *  # noqa: F403
from soma.classic.rbm import *  # noqa: F403
