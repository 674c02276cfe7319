//! Forward mode: tangents pushed through recorded nodes in creation order, one rule per
//! operation (the Jacobian-vector product of that operation), written with `Var` operations like
//! the reverse rules. Run over a recorded gradient, this gives Hessian-vector products
//! forward-over-reverse ([`crate::hvp_forward_over_reverse`]); a reverse sweep over it gives
//! them reverse-over-forward ([`crate::hvp`]).

use crate::error::GraphError;
use crate::graph::{Graph, Node, Op, Var};
use crate::tensor::Tensor;
use nabla_kernels::Element;

impl<T: Element> Graph<T> {
    /// The directional derivative of `output` along `tangents` (one per input, each of its
    /// input's shape): `sum_k J_k t_k`, by forward mode. With `record`, the result is a recorded
    /// `Var` (differentiable again); otherwise the rules run on values only.
    ///
    /// # Errors
    /// [`GraphError::ShapeMismatch`] if a tangent's shape is not its input's;
    /// [`GraphError::Invalid`] for a custom operation without a forward rule on the path;
    /// [`GraphError::ForeignVar`] for a `Var` of another graph.
    pub fn jvp_graph<'g>(
        &'g self,
        output: Var<'g, T>,
        inputs: &[Var<'g, T>],
        tangents: &[Var<'g, T>],
        record: bool,
    ) -> Result<Var<'g, T>, GraphError> {
        let foreign = |v: &Var<'g, T>| !std::ptr::eq(v.g, self);
        if foreign(&output) || inputs.iter().chain(tangents).any(foreign) {
            return Err(GraphError::ForeignVar);
        }
        for (x, t) in inputs.iter().zip(tangents) {
            if x.shape() != t.shape() {
                return Err(GraphError::ShapeMismatch {
                    op: "jvp tangent",
                    lhs: x.shape(),
                    rhs: t.shape(),
                });
            }
        }
        let before = self.recording.replace(record && self.recording.get());
        let result = self.forward_sweep(output, inputs, tangents);
        self.recording.set(before);
        result
    }

    fn forward_sweep<'g>(
        &'g self,
        output: Var<'g, T>,
        inputs: &[Var<'g, T>],
        tangents: &[Var<'g, T>],
    ) -> Result<Var<'g, T>, GraphError> {
        let n = output.id + 1;
        let mut tangent: Vec<Option<Var<'g, T>>> = vec![None; n];
        for (x, &t) in inputs.iter().zip(tangents) {
            if x.id < n {
                tangent[x.id] = Some(match tangent[x.id] {
                    None => t,
                    Some(prev) => prev + t,
                });
            }
        }
        let start = inputs.iter().map(|v| v.id).min().unwrap_or(n);
        for i in start..n {
            if tangent[i].is_some() && inputs.iter().any(|v| v.id == i) {
                continue;
            }
            let node = self.node(i);
            let p = node.parents();
            if p.is_empty() {
                continue;
            }
            if let Op::MapSum(_) | Op::Custom(_) = &node.op {
                let ts: Vec<Option<Var<'g, T>>> = p.iter().map(|&q| tangent[q]).collect();
                if ts.iter().any(Option::is_some) {
                    tangent[i] = Some(match &node.op {
                        Op::MapSum(m) => crate::map::jvp(self, m, p, &ts),
                        Op::Custom(op) => crate::custom::jvp(self, op, i, p, &ts)?,
                        _ => unreachable!("matched above"),
                    });
                }
                continue;
            }
            let ta = tangent[p[0]];
            let tb = p.get(1).and_then(|&q| tangent[q]);
            if ta.is_none() && tb.is_none() {
                continue;
            }
            tangent[i] = jvp_rule(self, i, &node, ta, tb)?;
        }
        Ok(tangent[output.id].unwrap_or_else(|| self.constant(Tensor::zeros(&output.dims()))))
    }
}

/// The tangent of node `id` from its parents' tangents (`None`: zero).
fn jvp_rule<'g, T: Element>(
    g: &'g Graph<T>,
    id: usize,
    node: &Node<T>,
    ta: Option<Var<'g, T>>,
    tb: Option<Var<'g, T>>,
) -> Result<Option<Var<'g, T>>, GraphError> {
    let y = Var { g, id };
    let p = node.parents();
    let a = Var { g, id: p[0] };
    let b = p.get(1).map(|&id| Var { g, id });
    let out = y.dims();
    let one = T::ONE;
    let t = |f: &dyn Fn(Var<'g, T>) -> Var<'g, T>| ta.map(f);
    // Sum of optional terms, broadcast to the output's shape.
    let sum2 = |x: Option<Var<'g, T>>, z: Option<Var<'g, T>>| match (x, z) {
        (Some(x), Some(z)) => Some((x + z).broadcast_to(&out)),
        (Some(x), None) | (None, Some(x)) => Some(x.broadcast_to(&out)),
        (None, None) => None,
    };
    Ok(match &node.op {
        Op::Leaf | Op::Step | Op::Sign | Op::EqMask => None,
        Op::Add => sum2(ta, tb),
        Op::Sub => sum2(ta, tb.map(|u| -u)),
        Op::Mul if p[0] == p[1] => {
            // x * x: t x + x t, as the exact doubling of one product.
            t(&|t| ((t * a) * T::from_f64(2.0)).broadcast_to(&out))
        }
        Op::Mul => {
            let b = b.expect("binary op");
            sum2(ta.map(|t| t * b), tb.map(|u| a * u))
        }
        Op::Div => {
            let b = b.expect("binary op");
            sum2(ta.map(|t| t / b), tb.map(|u| -(y * u) / b))
        }
        Op::Neg => t(&|t| -t),
        Op::Shift(_) => ta,
        Op::Scale(c) => t(&|t| t * *c),
        Op::DivScalar(c) => t(&|t| t / *c),
        Op::Exp => t(&|t| t * y),
        Op::Log => t(&|t| t / a),
        Op::Log1p => t(&|t| t / (a + one)),
        Op::Sqrt => t(&|t| t * T::from_f64(0.5) / y),
        Op::Abs => t(&|t| t * a.sign()),
        Op::Sin => t(&|t| t * a.cos()),
        Op::Cos => t(&|t| -(t * a.sin())),
        Op::Tanh => t(&|t| t * (-(y * y) + one)),
        Op::Sigmoid => t(&|t| t * (y * (-y + one))),
        Op::Relu => t(&|t| t.relu_grad(a)),
        Op::ReluGrad => t(&|t| t.relu_grad(b.expect("binary op"))),
        Op::LeakyRelu(alpha) => t(&|t| t * (a.step() * (one - *alpha) + *alpha)),
        Op::Softplus => t(&|t| t * a.sigmoid()),
        Op::Erf => t(&|t| t * (-(a * a)).exp() * T::from_f64(std::f64::consts::FRAC_2_SQRT_PI)),
        Op::PowI(k) => {
            if *k == 0 {
                None
            } else {
                t(&|t| t * a.powi(k - 1) * T::from_f64(*k as f64))
            }
        }
        Op::PowF(pw) => t(&|t| t * a.powf(*pw - one) * *pw),
        Op::MatMul { ta: fa, tb: fb } => {
            let b = b.expect("binary op");
            let mm = |x: Var<'g, T>, z: Var<'g, T>| {
                x.try_matmul_t(z, *fa, *fb)
                    .expect("shapes checked by the forward product")
            };
            match (ta.map(|t| mm(t, b)), tb.map(|u| mm(a, u))) {
                (Some(x), Some(z)) => Some(x + z),
                (x, z) => x.or(z),
            }
        }
        Op::SumAxes { axes, keepdim } => t(&|t| t.sum_axes(axes, *keepdim)),
        Op::MaxAxes { axes, keepdim } => {
            let shape = a.dims();
            let kept: Vec<usize> = shape
                .iter()
                .enumerate()
                .map(|(d, &n)| if axes.contains(&d) { 1 } else { n })
                .collect();
            let yk = if *keepdim { y } else { y.reshape(&kept) };
            let mask = a.eq_mask(yk.broadcast_to(&shape));
            let ties = mask.sum_axes(axes, true);
            t(&|t| (t * mask / ties).sum_axes(axes, *keepdim))
        }
        Op::BroadcastTo => t(&|t| t.broadcast_to(&out)),
        Op::SumTo => t(&|t| t.sum_to(&out)),
        Op::Reshape => t(&|t| t.reshape(&out)),
        Op::Permute(perm) => t(&|t| t.permute(perm)),
        Op::Slice { axis, start } => t(&|t| t.slice(*axis, *start, *start + out[*axis])),
        Op::Pad { axis, start } => t(&|t| t.pad(*axis, *start, out[*axis])),
        Op::Concat { axis, .. } => {
            let b = b.expect("binary op");
            let ta = ta.unwrap_or_else(|| g.constant(Tensor::zeros(&a.dims())));
            let tb = tb.unwrap_or_else(|| g.constant(Tensor::zeros(&b.dims())));
            Some(ta.concat(tb, *axis))
        }
        Op::IndexSelect(indices) => t(&|t| t.index_select_shared(indices.clone())),
        Op::IndexAdd(indices) => t(&|t| t.index_add(indices.clone(), out[0])),
        Op::MapSum(_) | Op::Custom(_) => {
            unreachable!("map_sum's and custom rules run in the sweep (map.rs, custom.rs)")
        }
    })
}
