//! Derivative rules: for each operation, the vector-Jacobian product written with `Var`
//! operations. Because the rules are themselves recorded operations, differentiating a recorded
//! gradient applies these same rules again: second and higher derivatives need nothing more.

use crate::graph::{Graph, Node, Op, Var};
use nabla_kernels::Element;

/// Contributions `dy * d(node)/d(parent)` for the node's (up to two) parents, each already summed
/// down to its parent's shape; `None` where no gradient flows or where `needs` says the parent
/// does not want one (so a constant operand costs nothing, e.g. the weight-gradient product of
/// a matmul with a constant matrix).
pub(crate) fn vjp<'g, T: Element>(
    g: &'g Graph<T>,
    id: usize,
    node: &Node<T>,
    dy: Var<'g, T>,
    needs: [bool; 2],
) -> [Option<Var<'g, T>>; 2] {
    let [na, nb] = needs;
    let y = Var { g, id };
    let p = node.parents();
    let a = Var { g, id: p[0] };
    let b = p.get(1).map(|&id| Var { g, id });
    let one = T::ONE;
    let unary = |d: Var<'g, T>| [Some(d), None];
    match &node.op {
        Op::Leaf | Op::Step | Op::Sign | Op::EqMask => [None, None],
        Op::Add => {
            let b = b.expect("binary op");
            [Some(dy.sum_to(&a.dims())), Some(dy.sum_to(&b.dims()))]
        }
        Op::Sub => {
            let b = b.expect("binary op");
            [Some(dy.sum_to(&a.dims())), Some((-dy).sum_to(&b.dims()))]
        }
        Op::Mul if p[0] == p[1] => {
            // x * x: both contributions are dy * x, added exactly as a doubling (one product
            // and one scaling instead of two products and a sum; the same bits).
            unary(((dy * a) * T::from_f64(2.0)).sum_to(&a.dims()))
        }
        Op::Mul => {
            let b = b.expect("binary op");
            [
                Some((dy * b).sum_to(&a.dims())),
                Some((dy * a).sum_to(&b.dims())),
            ]
        }
        Op::Div => {
            let b = b.expect("binary op");
            let q = dy / b;
            [
                Some(q.sum_to(&a.dims())),
                Some((-(q * y)).sum_to(&b.dims())),
            ]
        }
        Op::Neg => unary(-dy),
        Op::Shift(_) => unary(dy),
        Op::Scale(c) => unary(dy * *c),
        Op::DivScalar(c) => unary(dy / *c),
        Op::Exp => unary(dy * y),
        Op::Log => unary(dy / a),
        Op::Log1p => unary(dy / (a + one)),
        Op::Sqrt => unary(dy * T::from_f64(0.5) / y),
        Op::Abs => unary(dy * a.sign()),
        Op::Sin => unary(dy * a.cos()),
        Op::Cos => unary(-(dy * a.sin())),
        Op::Tanh => unary(dy * (-(y * y) + one)),
        Op::Sigmoid => unary(dy * (y * (-y + one))),
        Op::Relu => unary(dy.relu_grad(a)),
        // Linear in its first parent (the gradient it masks), constant almost everywhere in `x`.
        Op::ReluGrad => unary(dy.relu_grad(b.expect("binary op"))),
        Op::LeakyRelu(alpha) => unary(dy * (a.step() * (one - *alpha) + *alpha)),
        Op::Softplus => unary(dy * a.sigmoid()),
        Op::Erf => {
            let c = T::from_f64(std::f64::consts::FRAC_2_SQRT_PI);
            unary(dy * (-(a * a)).exp() * c)
        }
        Op::PowI(n) => {
            if *n == 0 {
                [None, None]
            } else {
                unary(dy * a.powi(n - 1) * T::from_f64(*n as f64))
            }
        }
        Op::PowF(pw) => unary(dy * a.powf(*pw - one) * *pw),
        Op::MatMul { ta, tb } => {
            // C = X Y with X = op(A), Y = op(B): dX = dC Y^T, dY = X^T dC, and dA = dX or dX^T
            // (likewise dB), all as flagged products of the stored operands: no transposes copied.
            let b = b.expect("binary op");
            let mm = |p: Var<'g, T>, q: Var<'g, T>, tp: bool, tq: bool| {
                p.try_matmul_t(q, tp, tq)
                    .expect("shapes checked by the forward product")
            };
            let da = na.then(|| {
                if *ta {
                    mm(b, dy, *tb, true)
                } else {
                    mm(dy, b, false, !*tb)
                }
            });
            let db = nb.then(|| {
                if *tb {
                    mm(dy, a, true, *ta)
                } else {
                    mm(a, dy, !*ta, false)
                }
            });
            [da, db]
        }
        Op::SumAxes { axes, keepdim } => {
            let shape = a.dims();
            let dy = if *keepdim {
                dy
            } else {
                dy.reshape(&kept_shape(&shape, axes))
            };
            unary(dy.broadcast_to(&shape))
        }
        Op::MaxAxes { axes, keepdim } => {
            let shape = a.dims();
            let kept = kept_shape(&shape, axes);
            let (dy, y) = if *keepdim {
                (dy, y)
            } else {
                (dy.reshape(&kept), y.reshape(&kept))
            };
            // Share the gradient evenly between tied maxima.
            let mask = a.eq_mask(y.broadcast_to(&shape));
            let ties = mask.sum_axes(axes, true);
            unary(dy.broadcast_to(&shape) * mask / ties)
        }
        Op::BroadcastTo => unary(dy.sum_to(&a.dims())),
        Op::SumTo => unary(dy.broadcast_to(&a.dims())),
        Op::Reshape => unary(dy.reshape(&a.dims())),
        Op::Slice { axis, start } => unary(dy.pad(*axis, *start, a.dims()[*axis])),
        Op::Pad { axis, start } => {
            let len = a.dims()[*axis];
            unary(dy.slice(*axis, *start, *start + len))
        }
        Op::Concat { axis, split } => {
            let b = b.expect("binary op");
            let end = *split + b.dims()[*axis];
            [
                Some(dy.slice(*axis, 0, *split)),
                Some(dy.slice(*axis, *split, end)),
            ]
        }
        Op::IndexSelect(indices) => unary(dy.index_add(indices.clone(), a.dims()[0])),
        Op::IndexAdd(indices) => unary(dy.index_select_shared(indices.clone())),
        Op::MapSum(_) | Op::Custom(_) => {
            unreachable!("map_sum's and custom rules run in the sweep (map.rs, custom.rs)")
        }
        Op::Permute(perm) => {
            let mut inverse = vec![0; perm.len()];
            for (d, &p) in perm.iter().enumerate() {
                inverse[p] = d;
            }
            unary(dy.permute(&inverse))
        }
    }
}

/// `shape` with the reduced `axes` set to 1.
fn kept_shape(shape: &[usize], axes: &[usize]) -> crate::dims::Dims {
    shape
        .iter()
        .enumerate()
        .map(|(d, &n)| if axes.contains(&d) { 1 } else { n })
        .collect()
}

/// The rule of [`vjp`] on plain numbers, for a node whose value and parents are single elements
/// of one shape (a scalar graph): `dy * d(node)/d(parent)` for each parent, or `None` if the
/// op's rule is not pure arithmetic on `a`, `b`, `y` and `dy` (that node takes the general path).
///
/// Each arm performs the same floating-point operations, in the same order, as its arm of
/// [`vjp`] does on one-element tensors, so the two paths give the same bits (tested in
/// `tests/scalar_path.rs`). `a` and `b` are the parents' values, `y` the node's; `square` is set for
/// `x * x` (one parent twice).
pub(crate) fn scalar_vjp<T: Element>(
    op: &Op<T>,
    a: T,
    b: T,
    y: T,
    dy: T,
    square: bool,
) -> Option<[Option<T>; 2]> {
    let one = T::ONE;
    let unary = |d: T| Some([Some(d), None]);
    match op {
        Op::Add => Some([Some(dy), Some(dy)]),
        Op::Sub => Some([Some(dy), Some(-dy)]),
        Op::Mul if square => unary((dy * a) * T::from_f64(2.0)),
        Op::Mul => Some([Some(dy * b), Some(dy * a)]),
        Op::Div => {
            let q = dy / b;
            Some([Some(q), Some(-(q * y))])
        }
        Op::Neg => unary(-dy),
        Op::Shift(_) => unary(dy),
        Op::Scale(c) => unary(dy * *c),
        Op::DivScalar(c) => unary(dy / *c),
        Op::Exp => unary(dy * y),
        Op::Log => unary(dy / a),
        Op::Log1p => unary(dy / (a + one)),
        Op::Sqrt => unary(dy * T::from_f64(0.5) / y),
        Op::Tanh => unary(dy * (-(y * y) + one)),
        Op::Sigmoid => unary(dy * (y * (-y + one))),
        Op::PowI(0) => Some([None, None]),
        Op::PowI(n) => unary(dy * T::from_f64(a.to_f64().powi(n - 1)) * T::from_f64(*n as f64)),
        Op::PowF(pw) => unary(dy * T::from_f64(a.to_f64().powf((*pw - one).to_f64())) * *pw),
        _ => None,
    }
}
