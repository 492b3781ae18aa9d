"""The finite-difference helpers themselves: right on known functions, able to fail."""
import numpy as np
import pytest

from pynncomp.gradcheck import GRAD_RTOL, numerical_gradient, numerical_second_derivative, rel_error


def test_numerical_gradient_of_a_known_function():
    x = np.array([[0.3, -1.2], [2.0, 0.7]])
    grad = numerical_gradient(lambda: float(np.sum(np.sin(x) * x**2)), x)
    exact = np.cos(x) * x**2 + 2 * x * np.sin(x)
    assert rel_error(grad, exact) < GRAD_RTOL
    np.testing.assert_array_equal(x, [[0.3, -1.2], [2.0, 0.7]])  # restored


def test_numerical_second_derivative_of_a_known_function():
    x = np.array([0.5, -1.5, 2.5])
    hess = numerical_second_derivative(lambda: float(np.sum(np.exp(x) + x**4)), x)
    assert rel_error(hess, np.exp(x) + 12 * x**2) < 1e-5


def test_rel_error_flags_a_wrong_gradient():
    x = np.array([1.0, 2.0, 3.0])
    grad = numerical_gradient(lambda: float(np.sum(x**3)), x)
    assert rel_error(grad, 3 * x**2) < GRAD_RTOL
    assert rel_error(grad, 2 * x**2) > 0.1  # a missing factor is caught


def test_empty_array_has_empty_gradient():
    x = np.zeros((0, 3))
    assert numerical_gradient(lambda: 0.0, x).shape == (0, 3)
    assert rel_error(np.zeros(0), np.zeros(0)) == 0.0


def test_bad_arguments_are_refused():
    with pytest.raises(TypeError, match="x must be a float64"):
        numerical_gradient(lambda: 0.0, np.zeros(3, dtype=np.float32))
    with pytest.raises(ValueError, match="C-contiguous"):
        numerical_gradient(lambda: 0.0, np.zeros((3, 4)).T)
    with pytest.raises(ValueError, match="one shape"):
        rel_error(np.zeros(2), np.zeros(3))
