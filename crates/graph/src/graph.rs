//! The tape: an arena of nodes recorded as operations run (define-by-run), `Var` handles into
//! it, and the reverse sweep that turns it into gradients.

use crate::error::GraphError;
use crate::tensor::Tensor;
use nabla_kernels::Element;
use std::cell::{Cell, RefCell};

/// What produced a node. Each variant's derivative rule lives in [`crate::rules`].
#[derive(Clone, Debug)]
pub(crate) enum Op<T> {
    /// An input: a variable (`requires_grad`) or a constant.
    Leaf,
    Add,
    Sub,
    Mul,
    Div,
    Neg,
    Exp,
    Log,
    Log1p,
    Sqrt,
    Abs,
    Sin,
    Cos,
    Tanh,
    Sigmoid,
    Relu,
    /// ReLU's vector-Jacobian product (parents: the gradient of ReLU's output, and ReLU's input
    /// `x`): the gradient where `x > 0`, else 0. Linear in the gradient; no gradient to `x`.
    ReluGrad,
    LeakyRelu(T),
    Softplus,
    Erf,
    PowI(i32),
    PowF(T),
    /// `1` where the input is positive, else `0`: piecewise constant, so no gradient flows.
    Step,
    /// The sign of the input (`-1, 0, 1`): no gradient.
    Sign,
    /// `1` where the two inputs are equal, else `0`: no gradient.
    EqMask,
    /// `x + c` for a constant scalar `c`.
    Shift(T),
    /// `x * c` for a constant scalar `c`.
    Scale(T),
    /// `x / c` for a constant scalar `c`.
    DivScalar(T),
    /// Matrix product of the last two axes (rank 2, or rank 3 with equal batch sizes), each
    /// operand transposed (as a strided view) when its flag is set.
    MatMul {
        ta: bool,
        tb: bool,
    },
    SumAxes {
        axes: crate::dims::Dims,
        keepdim: bool,
    },
    MaxAxes {
        axes: crate::dims::Dims,
        keepdim: bool,
    },
    /// Broadcast up to this node's shape.
    BroadcastTo,
    /// Sum down to this node's (broadcast-compatible) shape.
    SumTo,
    Reshape,
    Permute(Vec<usize>),
    /// A range along an axis, starting at `start`.
    Slice {
        axis: usize,
        start: usize,
    },
    /// Placed at `start` along an axis of zeros (this node's shape).
    Pad {
        axis: usize,
        start: usize,
    },
    /// The two inputs joined along `axis` (the first has `split` entries there).
    Concat {
        axis: usize,
        split: usize,
    },
    /// Rows `indices` of the input (axis 0): a gather, as an embedding lookup.
    IndexSelect(std::sync::Arc<[usize]>),
    /// Rows of the input added into rows `indices` of zeros (this node's shape): the adjoint
    /// of [`Op::IndexSelect`].
    IndexAdd(std::sync::Arc<[usize]>),
    /// A user operation with its own derivative rule.
    Custom(crate::custom::CustomRef<T>),
    /// `sum f(parents...)` of a fused elementwise function, with the partials kept from the
    /// forward pass (any number of parents; rules in `map.rs`).
    MapSum(crate::map::MapSum<T>),
}

/// One recorded value and how it was made.
#[derive(Clone, Debug)]
pub(crate) struct Node<T> {
    pub value: Tensor<T>,
    pub op: Op<T>,
    pub parents: [usize; 2],
    pub n_parents: u8,
    /// All parents, when there are more than two (`map_sum`).
    pub more: Option<std::sync::Arc<[usize]>>,
    /// Whether a gradient can flow to this node from some variable.
    pub requires_grad: bool,
}

impl<T> Node<T> {
    pub(crate) fn parents(&self) -> &[usize] {
        match &self.more {
            Some(all) => all,
            None => &self.parents[..self.n_parents as usize],
        }
    }
}

/// A computation graph: operations on its [`Var`]s compute their values at once and record
/// themselves, so plain Rust control flow builds the graph (define-by-run).
///
/// Gradients come from one reverse sweep over the recorded nodes in reverse creation order (an
/// explicit loop, no recursion: a chain of a million operations is fine). Each operation's
/// derivative rule is written with the same `Var` operations, so with
/// [`Graph::grad_graph`] the gradient is itself recorded and can be differentiated again, to
/// any order.
///
/// ```
/// use nabla_graph::{Graph, Tensor};
/// let g = Graph::<f64>::new();
/// let x = g.var(Tensor::scalar(3.0));
/// let y = x * x * x; // x^3
/// let dy = g.grad_graph(y, &[x]).unwrap()[0]; // 3x^2, recorded
/// let d2y = g.grad(dy, &[x]).unwrap()[0].item(); // 6x
/// assert_eq!((dy.value().item(), d2y), (27.0, 18.0));
/// ```
pub struct Graph<T> {
    nodes: RefCell<Vec<Node<T>>>,
    pub(crate) recording: Cell<bool>,
    /// The reverse sweep's work vectors, kept between sweeps (emptied, capacity kept).
    scratch: RefCell<Scratch<T>>,
}

/// Work vectors of one reverse sweep, indexed by node.
struct Scratch<T> {
    on_path: Vec<bool>,
    is_input: Vec<bool>,
    adjoint: Vec<Option<Adjoint<T>>>,
}

impl<T> Default for Scratch<T> {
    fn default() -> Self {
        Scratch {
            on_path: Vec::new(),
            is_input: Vec::new(),
            adjoint: Vec::new(),
        }
    }
}

/// A handle to a node of a [`Graph`]: small and `Copy`, with arithmetic operators.
#[derive(Clone, Copy)]
pub struct Var<'g, T> {
    pub(crate) g: &'g Graph<T>,
    pub(crate) id: usize,
}

impl<T: Element> std::fmt::Debug for Var<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Var#{} {:?}", self.id, self.value())
    }
}

impl<T: Element> Default for Graph<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Element> Graph<T> {
    /// An empty graph.
    pub fn new() -> Self {
        Graph {
            nodes: RefCell::new(Vec::new()),
            recording: Cell::new(true),
            scratch: RefCell::new(Scratch::default()),
        }
    }

    /// Forgets every recorded node but keeps the memory, so a training loop can record each
    /// step into the same graph without allocating (the borrow checker guarantees no `Var` of
    /// the old nodes is still alive).
    ///
    /// ```
    /// use nabla_graph::{Graph, Tensor};
    /// let mut g = Graph::<f64>::new();
    /// for step in 0..3 {
    ///     g.clear();
    ///     let x = g.var(Tensor::scalar(step as f64));
    ///     let dy = g.grad(x * x, &[x]).unwrap();
    ///     assert_eq!(dy[0].item(), 2.0 * step as f64);
    /// }
    /// ```
    pub fn clear(&mut self) {
        self.nodes.get_mut().clear();
    }

    /// Number of recorded nodes.
    pub fn len(&self) -> usize {
        self.nodes.borrow().len()
    }

    /// Whether nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A variable: a leaf that gradients flow to.
    pub fn var(&self, value: Tensor<T>) -> Var<'_, T> {
        self.push_leaf(value, true)
    }

    /// A constant: a leaf no gradient flows to.
    pub fn constant(&self, value: Tensor<T>) -> Var<'_, T> {
        self.push_leaf(value, false)
    }

    /// A scalar constant.
    pub fn scalar(&self, x: T) -> Var<'_, T> {
        self.constant(Tensor::scalar(x))
    }

    fn push_leaf(&self, value: Tensor<T>, requires_grad: bool) -> Var<'_, T> {
        self.push_node(Node {
            value,
            op: Op::Leaf,
            parents: [0; 2],
            n_parents: 0,
            more: None,
            requires_grad,
        })
    }

    /// Drops nodes recorded after the first `len` (Vars to them must not be used again).
    pub(crate) fn truncate(&self, len: usize) {
        self.nodes.borrow_mut().truncate(len);
    }

    /// Runs `f` with recording off: operations compute values but record constants, so no
    /// gradient flows through what `f` computes.
    pub fn no_grad<R>(&self, f: impl FnOnce() -> R) -> R {
        let before = self.recording.replace(false);
        let r = f();
        self.recording.set(before);
        r
    }

    pub(crate) fn push_node(&self, node: Node<T>) -> Var<'_, T> {
        let mut nodes = self.nodes.borrow_mut();
        nodes.push(node);
        Var {
            g: self,
            id: nodes.len() - 1,
        }
    }

    /// Records an operation with its value.
    pub(crate) fn push_op(
        &self,
        op: Op<T>,
        parents: &[Var<'_, T>],
        value: Tensor<T>,
    ) -> Var<'_, T> {
        // One borrow for the test and the push.
        let mut nodes = self.nodes.borrow_mut();
        let requires_grad = self.recording.get()
            && !matches!(op, Op::Step | Op::Sign | Op::EqMask)
            && parents.iter().any(|p| nodes[p.id].requires_grad);
        let node = if requires_grad {
            let mut ids = [0; 2];
            for (slot, p) in ids.iter_mut().zip(parents) {
                *slot = p.id;
            }
            let more = (parents.len() > 2).then(|| parents.iter().map(|p| p.id).collect());
            Node {
                value,
                op,
                parents: ids,
                n_parents: parents.len() as u8,
                more,
                requires_grad,
            }
        } else {
            Node {
                value,
                op: Op::Leaf,
                parents: [0; 2],
                n_parents: 0,
                more: None,
                requires_grad: false,
            }
        };
        nodes.push(node);
        Var {
            g: self,
            id: nodes.len() - 1,
        }
    }

    /// Whether a gradient can flow to node `id` from some variable.
    pub(crate) fn requires_grad(&self, id: usize) -> bool {
        self.nodes.borrow()[id].requires_grad
    }

    pub(crate) fn value_of(&self, id: usize) -> Tensor<T> {
        self.nodes.borrow()[id].value.clone()
    }

    pub(crate) fn node(&self, id: usize) -> Node<T> {
        self.nodes.borrow()[id].clone()
    }

    /// `f` of the values of nodes `a` and `b`, borrowed (no clones).
    pub(crate) fn with_values<R>(
        &self,
        a: usize,
        b: usize,
        f: impl FnOnce(&Tensor<T>, &Tensor<T>) -> R,
    ) -> R {
        let nodes = self.nodes.borrow();
        f(&nodes[a].value, &nodes[b].value)
    }

    /// `f` of node `id`, borrowed (no clone).
    pub(crate) fn node_ref<R>(&self, id: usize, f: impl FnOnce(&Node<T>) -> R) -> R {
        f(&self.nodes.borrow()[id])
    }

    fn check_own(&self, vars: &[Var<'_, T>]) -> Result<(), GraphError> {
        if vars.iter().all(|v| std::ptr::eq(v.g, self)) {
            Ok(())
        } else {
            Err(GraphError::ForeignVar)
        }
    }

    /// The gradient of a scalar `output` with respect to each of `inputs`, as values (the
    /// training fast path: the sweep's own nodes are dropped afterwards).
    ///
    /// An input the output does not depend on gets zeros.
    ///
    /// # Errors
    /// [`GraphError::NotScalar`] if `output` has more than one element (use [`Graph::vjp`]).
    pub fn grad(
        &self,
        output: Var<'_, T>,
        inputs: &[Var<'_, T>],
    ) -> Result<Vec<Tensor<T>>, GraphError> {
        let mut out = Vec::with_capacity(inputs.len());
        self.grad_into(output, inputs, &mut out)?;
        Ok(out)
    }

    /// The vector-Jacobian product `seed^T J` for each input: the gradient of
    /// `sum(seed * output)`. `seed` has the output's shape.
    ///
    /// # Errors
    /// [`GraphError::ShapeMismatch`] if `seed`'s shape is not the output's.
    pub fn vjp(
        &self,
        output: Var<'_, T>,
        inputs: &[Var<'_, T>],
        seed: Tensor<T>,
    ) -> Result<Vec<Tensor<T>>, GraphError> {
        let mut out = Vec::with_capacity(inputs.len());
        self.vjp_into(output, inputs, seed, &mut out)?;
        Ok(out)
    }

    /// [`Graph::grad`] into `out` (cleared first; its capacity is reused, so a training loop
    /// that also reuses the graph with [`Graph::clear`] allocates nothing per step once its
    /// buffers are pooled).
    ///
    /// # Errors
    /// As [`Graph::grad`].
    pub fn grad_into(
        &self,
        output: Var<'_, T>,
        inputs: &[Var<'_, T>],
        out: &mut Vec<Tensor<T>>,
    ) -> Result<(), GraphError> {
        let seed = self.scalar_seed(output)?;
        self.vjp_into(output, inputs, seed, out)
    }

    fn vjp_into(
        &self,
        output: Var<'_, T>,
        inputs: &[Var<'_, T>],
        seed: Tensor<T>,
        out: &mut Vec<Tensor<T>>,
    ) -> Result<(), GraphError> {
        out.clear();
        let mark = self.len();
        // The rules run on values only: recording off, so their nodes are cheap constants, and
        // the arena is cut back after each node, so only live adjoints stay in memory.
        let before = self.recording.replace(false);
        let seed = self.constant(seed);
        let result = self.sweep(output, inputs, seed, false, |a| {
            out.push(match a {
                Adjoint::Value(t) => t,
                Adjoint::Var(id) => self.value_of(id),
                Adjoint::Scalar(_) => unreachable!("the sweep returns scalars as values"),
            })
        });
        self.recording.set(before);
        self.nodes.borrow_mut().truncate(mark);
        result
    }

    /// [`Graph::grad`], recorded: the gradients are `Var`s of this graph and can be
    /// differentiated again (Hessians, Hessian-vector products, any order).
    ///
    /// # Errors
    /// As [`Graph::grad`].
    pub fn grad_graph<'g>(
        &'g self,
        output: Var<'g, T>,
        inputs: &[Var<'g, T>],
    ) -> Result<Vec<Var<'g, T>>, GraphError> {
        let seed = self.scalar_seed(output)?;
        let seed = self.constant(seed);
        self.sweep_recorded(output, inputs, seed)
    }

    /// [`Graph::vjp`], recorded, with the seed a `Var` (so the result is differentiable in the
    /// seed too: this is how [`crate::jvp`] gets forward-mode products).
    ///
    /// # Errors
    /// As [`Graph::vjp`].
    pub fn vjp_graph<'g>(
        &'g self,
        output: Var<'g, T>,
        inputs: &[Var<'g, T>],
        seed: Var<'g, T>,
    ) -> Result<Vec<Var<'g, T>>, GraphError> {
        self.sweep_recorded(output, inputs, seed)
    }

    fn sweep_recorded<'g>(
        &'g self,
        output: Var<'g, T>,
        inputs: &[Var<'g, T>],
        seed: Var<'g, T>,
    ) -> Result<Vec<Var<'g, T>>, GraphError> {
        let mut out = Vec::with_capacity(inputs.len());
        self.sweep(output, inputs, seed, true, |a| {
            out.push(match a {
                Adjoint::Var(id) => Var { g: self, id },
                Adjoint::Value(t) => self.constant(t),
                Adjoint::Scalar(_) => unreachable!("the sweep returns scalars as values"),
            })
        })?;
        Ok(out)
    }

    fn scalar_seed(&self, output: Var<'_, T>) -> Result<Tensor<T>, GraphError> {
        let v = output.value();
        if v.len() != 1 {
            return Err(GraphError::NotScalar {
                shape: v.shape().to_vec(),
            });
        }
        Ok(Tensor::ones(v.shape()))
    }

    /// The reverse sweep: adjoints flow from `output` (seeded with `seed`) to `inputs`, visiting
    /// nodes in reverse creation order, which is a topological order of the graph.
    ///
    /// `record`: the adjoints are recorded `Var`s (a differentiable gradient). Otherwise they are
    /// plain tensors: each node's rule runs on a temporary constant and the arena is cut back
    /// right after, so at any time memory holds the live adjoints and one rule's temporaries.
    fn sweep<'g>(
        &'g self,
        output: Var<'g, T>,
        inputs: &[Var<'g, T>],
        seed: Var<'g, T>,
        record: bool,
        emit: impl FnMut(Adjoint<T>),
    ) -> Result<(), GraphError> {
        self.check_own(inputs)?;
        self.check_own(&[output, seed])?;
        let (out_shape, seed_shape) = (output.dims(), seed.dims());
        if !crate::tensor::same_dims(&out_shape, &seed_shape) {
            return Err(GraphError::ShapeMismatch {
                op: "vjp seed",
                lhs: out_shape.to_vec(),
                rhs: seed_shape.to_vec(),
            });
        }
        // Taken, not borrowed: a custom op's rule may run a sweep of its own (which then starts
        // from empty vectors).
        let mut scratch = self.scratch.take();
        let result = self.sweep_with(&mut scratch, output, inputs, seed, record, emit);
        scratch.adjoint.clear();
        *self.scratch.borrow_mut() = scratch;
        result
    }

    fn sweep_with<'g>(
        &'g self,
        scratch: &mut Scratch<T>,
        output: Var<'g, T>,
        inputs: &[Var<'g, T>],
        seed: Var<'g, T>,
        record: bool,
        mut emit: impl FnMut(Adjoint<T>),
    ) -> Result<(), GraphError> {
        let n = output.id + 1;
        let Scratch {
            on_path,
            is_input,
            adjoint,
        } = scratch;
        // Which nodes lie on a path from an input (forward pass over the creation order).
        on_path.clear();
        on_path.resize(n, false);
        is_input.clear();
        is_input.resize(n, false);
        for inp in inputs {
            if inp.id < n {
                on_path[inp.id] = true;
                is_input[inp.id] = true;
            }
        }
        {
            let nodes = self.nodes.borrow();
            for i in 0..n {
                if !on_path[i] && nodes[i].requires_grad {
                    on_path[i] = nodes[i].parents().iter().any(|&p| on_path[p]);
                }
            }
        }
        adjoint.clear();
        adjoint.resize_with(n, || None);
        adjoint[output.id] = Some(if record {
            Adjoint::Var(seed.id)
        } else {
            Adjoint::Value(seed.value())
        });
        let mark = self.len();
        for i in (0..n).rev() {
            if !on_path[i] || adjoint[i].is_none() {
                continue;
            }
            if !record && self.scalar_step(i, adjoint, on_path, is_input[i]) {
                continue;
            }
            let node = self.node(i);
            // A leaf, or an input none of whose parents is on a path from an input: nothing to
            // propagate (its rule would run for nothing: a checkpointed segment would even be
            // recomputed).
            if !node.parents().iter().any(|&p| on_path[p]) {
                continue;
            }
            // Consumed now (kept for inputs, whose adjoint is the result).
            let dy = if is_input[i] {
                adjoint[i].clone()
            } else {
                adjoint[i].take()
            };
            let dy = match dy.expect("checked above") {
                Adjoint::Var(id) => Var { g: self, id },
                Adjoint::Value(t) => self.constant(t),
                Adjoint::Scalar(x) => self.constant(Tensor::one_with_dims(x, node.value.dims())),
            };
            let parents = node.parents();
            let (two, many);
            let contributions: &[Option<Var<'g, T>>] = if let Op::MapSum(m) = &node.op {
                let needs: Vec<bool> = parents.iter().map(|&p| on_path[p]).collect();
                many = crate::map::vjp(self, m, parents, dy, &needs);
                &many
            } else if let Op::Custom(op) = &node.op {
                many = crate::custom::vjp(self, op, i, parents, dy)?;
                &many
            } else {
                let needs = [
                    on_path[parents[0]],
                    parents.get(1).is_some_and(|&p| on_path[p]),
                ];
                two = crate::rules::vjp(self, i, &node, dy, needs);
                &two
            };
            for (&p, &c) in parents.iter().zip(contributions) {
                let Some(c) = c else { continue };
                if !on_path[p] {
                    continue;
                }
                adjoint[p] = Some(match (adjoint[p].take(), record) {
                    (None, true) => Adjoint::Var(c.id),
                    (None, false) => Adjoint::Value(c.value()),
                    (Some(Adjoint::Var(prev)), _) => {
                        Adjoint::Var((Var { g: self, id: prev } + c).id)
                    }
                    (Some(Adjoint::Value(prev)), _) => Adjoint::Value(
                        Tensor::zip("add", &prev, &c.value(), nabla_kernels::add, |a, b| a + b)
                            .expect("adjoints have their node's shape"),
                    ),
                    (Some(Adjoint::Scalar(prev)), _) => {
                        let c = c.value().item();
                        Adjoint::Scalar(prev + c)
                    }
                });
            }
            if !record {
                self.nodes.borrow_mut().truncate(mark);
            }
        }
        for v in inputs {
            emit(match adjoint.get(v.id).cloned().flatten() {
                Some(Adjoint::Scalar(x)) => Adjoint::Value(Tensor::one_with_dims(x, v.dims())),
                Some(a) => a,
                None => Adjoint::Value(Tensor::zeros(&v.dims())),
            });
        }
        Ok(())
    }

    /// The reverse step of node `i` on plain numbers, when the node and its parents hold one
    /// element each under the same shape and the op's rule is arithmetic
    /// ([`crate::rules::scalar_vjp`]): no tensors, no temporary nodes. Returns `false`, having
    /// changed nothing, when the general step must run instead. `keep`: `i` is an input, whose
    /// adjoint is the result and stays.
    fn scalar_step(
        &self,
        i: usize,
        adjoint: &mut [Option<Adjoint<T>>],
        on_path: &[bool],
        keep: bool,
    ) -> bool {
        let dy = match &adjoint[i] {
            Some(Adjoint::Scalar(x)) => *x,
            Some(Adjoint::Value(t)) => match t.as_one() {
                Some(x) => x,
                None => return false,
            },
            _ => return false,
        };
        let nodes = self.nodes.borrow();
        let node = &nodes[i];
        let parents = node.parents();
        let (Some(y), Some(&pa)) = (node.value.as_one(), parents.first()) else {
            return false;
        };
        let shape = node.value.shape();
        let scalar_of = |p: usize| {
            let v = &nodes[p].value;
            v.as_one()
                .filter(|_| crate::tensor::same_dims(v.shape(), shape))
        };
        let Some(a) = scalar_of(pa) else { return false };
        let (b, square) = match parents.get(1) {
            Some(&pb) => match scalar_of(pb) {
                Some(b) => (b, pb == pa),
                None => return false,
            },
            None => (T::ZERO, false),
        };
        let Some(contributions) = crate::rules::scalar_vjp(&node.op, a, b, y, dy, square) else {
            return false;
        };
        if !keep {
            adjoint[i] = None;
        }
        for (&p, c) in parents.iter().zip(contributions) {
            let Some(c) = c else { continue };
            if !on_path[p] {
                continue;
            }
            adjoint[p] = Some(Adjoint::Scalar(match adjoint[p].take() {
                None => c,
                Some(Adjoint::Scalar(prev)) => prev + c,
                Some(Adjoint::Value(prev)) => prev.item() + c,
                Some(Adjoint::Var(_)) => unreachable!("no recorded adjoints in a value sweep"),
            }));
        }
        true
    }
}

/// An adjoint during the reverse sweep: recorded (the node id of a `Var` of this graph), or a
/// plain value.
#[derive(Clone)]
enum Adjoint<T> {
    Var(usize),
    Value(Tensor<T>),
    /// A one-element value under its node's shape, as a plain number (the scalar fast path).
    Scalar(T),
}

impl<'g, T: Element> Var<'g, T> {
    /// The node's value.
    pub fn value(&self) -> Tensor<T> {
        self.g.value_of(self.id)
    }

    /// The value's shape.
    pub fn shape(&self) -> Vec<usize> {
        self.dims().to_vec()
    }

    /// The value's shape, shared (no allocation).
    pub(crate) fn dims(&self) -> std::sync::Arc<[usize]> {
        self.g.nodes.borrow()[self.id].value.dims()
    }

    /// The graph this handle belongs to.
    pub fn graph(&self) -> &'g Graph<T> {
        self.g
    }

    /// The same value as a constant: no gradient flows back through it.
    pub fn detach(self) -> Var<'g, T> {
        self.g.constant(self.value())
    }
}
