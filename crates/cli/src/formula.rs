//! [`Formula`]: a parsed formula and its values and derivatives at a point, with every NaN or
//! infinity traced to the operation that produced it.

use crate::ast::Expr;
use crate::compile::{non_finite, record, scalar};
use crate::error::{EvalError, ParseError, Stage};
use crate::parser::parse;
use nabla_graph::{Graph, Tensor, Var};

/// A formula, parsed and ready to evaluate.
#[derive(Clone, Debug, PartialEq)]
pub struct Formula {
    source: String,
    expr: Expr,
}

/// A formula's value at a point, its gradient and (if asked for) its Hessian.
#[derive(Clone, Debug, PartialEq)]
pub struct Derivatives {
    /// `f(x)`.
    pub value: f64,
    /// `df/dx_i`, in the formula's variable order.
    pub gradient: Vec<f64>,
    /// `d2f/dx_i dx_j`, row-major `n x n` (`None` unless second derivatives were asked for).
    pub hessian: Option<Vec<f64>>,
}

impl Formula {
    /// Parses `src`.
    ///
    /// # Errors
    /// A [`ParseError`] naming what was expected and the column.
    pub fn parse(src: &str) -> Result<Formula, ParseError> {
        Ok(Formula {
            source: src.to_string(),
            expr: parse(src)?,
        })
    }

    /// The text it was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Its syntax tree.
    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    /// The variables' names, in order of first appearance: the order of every point and
    /// gradient.
    pub fn variables(&self) -> &[String] {
        &self.expr.variables
    }

    /// The value at `at` (one coordinate per variable).
    ///
    /// # Errors
    /// [`EvalError::WrongDimension`], [`EvalError::NonFiniteInput`], or
    /// [`EvalError::NonFinite`] naming the operation whose value went NaN or infinite.
    pub fn value(&self, at: &[f64]) -> Result<f64, EvalError> {
        let g = Graph::new();
        let inputs = self.inputs(&g, at)?;
        let nodes = record(&g, &self.expr, &inputs, true)?;
        Ok(scalar(nodes[self.expr.root()]))
    }

    /// The value and gradient at `at`.
    ///
    /// # Errors
    /// As [`Formula::value`]; a non-finite gradient is traced to the innermost operation whose
    /// own gradient is not finite while its arguments' gradients are.
    pub fn gradient(&self, at: &[f64]) -> Result<Derivatives, EvalError> {
        self.derivatives(at, false)
    }

    /// The value, gradient and Hessian at `at`.
    ///
    /// # Errors
    /// As [`Formula::gradient`], and likewise for the Hessian.
    pub fn hessian(&self, at: &[f64]) -> Result<Derivatives, EvalError> {
        self.derivatives(at, true)
    }

    /// The formula as a function of a vector `x` (element `i` is variable `i`), recorded on
    /// `x`'s graph without checks: NaN and infinities propagate as in any graph function.
    /// This is the form optimizers take (see `nabla_optim::GraphObjective`).
    ///
    /// # Panics
    /// If `x` is not a vector with one element per variable.
    pub fn apply<'g>(&self, x: Var<'g, f64>) -> Var<'g, f64> {
        let n = self.variables().len();
        assert_eq!(
            x.shape(),
            [n],
            "Formula::apply: the formula has {n} variables"
        );
        let inputs: Vec<Var<'g, f64>> = (0..n).map(|i| x.at(i)).collect();
        let nodes = record(x.graph(), &self.expr, &inputs, false)
            .expect("recording without checks does not fail");
        nodes[self.expr.root()]
    }

    /// One scalar variable per coordinate, after checking the point.
    fn inputs<'g>(&self, g: &'g Graph<f64>, at: &[f64]) -> Result<Vec<Var<'g, f64>>, EvalError> {
        let names = self.variables();
        if at.len() != names.len() {
            return Err(EvalError::WrongDimension {
                expected: names.len(),
                found: at.len(),
            });
        }
        if let Some((name, &value)) = names.iter().zip(at).find(|(_, v)| !v.is_finite()) {
            return Err(EvalError::NonFiniteInput {
                variable: name.clone(),
                value,
            });
        }
        Ok(at.iter().map(|&v| g.var(Tensor::scalar(v))).collect())
    }

    fn derivatives(&self, at: &[f64], second: bool) -> Result<Derivatives, EvalError> {
        let g = Graph::new();
        let inputs = self.inputs(&g, at)?;
        let nodes = record(&g, &self.expr, &inputs, true)?;
        let root = self.expr.root();
        let (gradient, hessian) = derivatives_of(&g, nodes[root], &inputs, second);
        if let Some(bad) = first_non_finite(&gradient) {
            return Err(self.locate(&g, &nodes, &inputs, Stage::Gradient, bad));
        }
        if let Some(bad) = hessian.as_deref().and_then(first_non_finite) {
            return Err(self.locate(&g, &nodes, &inputs, Stage::Hessian, bad));
        }
        Ok(Derivatives {
            value: scalar(nodes[root]),
            gradient,
            hessian,
        })
    }

    /// The error for a non-finite derivative of the root (`stage`, first bad entry `bad`):
    /// descends from the root into any argument whose own derivatives are not finite, down to
    /// an operation whose arguments' derivatives all are. That operation's rule produced it.
    fn locate<'g>(
        &self,
        g: &'g Graph<f64>,
        nodes: &[Var<'g, f64>],
        inputs: &[Var<'g, f64>],
        mut stage: Stage,
        mut bad: f64,
    ) -> EvalError {
        let mut id = self.expr.root();
        'descend: loop {
            for &c in self.expr.children(id) {
                let (gc, hc) = derivatives_of(g, nodes[c], inputs, stage == Stage::Hessian);
                let found = first_non_finite(&gc)
                    .map(|b| (Stage::Gradient, b))
                    .or_else(|| {
                        hc.as_deref()
                            .and_then(first_non_finite)
                            .map(|b| (Stage::Hessian, b))
                    });
                if let Some((s, b)) = found {
                    (id, stage, bad) = (c, s, b);
                    continue 'descend;
                }
            }
            return non_finite(&self.expr, id, stage, bad, nodes);
        }
    }
}

/// The gradient of `y` with respect to `inputs`, and its Hessian (row-major) if `second`.
fn derivatives_of<'g>(
    g: &'g Graph<f64>,
    y: Var<'g, f64>,
    inputs: &[Var<'g, f64>],
    second: bool,
) -> (Vec<f64>, Option<Vec<f64>>) {
    const OWN: &str = "a scalar of this graph";
    if !second {
        let grad = g.grad(y, inputs).expect(OWN);
        return (grad.iter().map(|t| t.data()[0]).collect(), None);
    }
    let grad = g.grad_graph(y, inputs).expect(OWN);
    let mut hessian = Vec::with_capacity(inputs.len() * inputs.len());
    for &gi in &grad {
        hessian.extend(g.grad(gi, inputs).expect(OWN).iter().map(|t| t.data()[0]));
    }
    (grad.iter().map(|&v| scalar(v)).collect(), Some(hessian))
}

fn first_non_finite(xs: &[f64]) -> Option<f64> {
    xs.iter().copied().find(|x| !x.is_finite())
}
