//! The reverse sweep's scalar fast path (`grad` on graphs of one-element values, which skips
//! tensors and temporary nodes) against the general rules (`grad_graph`, which records the same
//! rules as `Var` operations): random programs over every op the fast path covers, mixed with
//! ops it does not (which take the general path mid-sweep) and with one-element tensors of
//! differing shapes (broadcasts, also the general path). The two must agree bit for bit: the
//! fast path promises the same floating-point operations in the same order, so any difference,
//! even one ULP, is a bug.

use nabla_graph::{Graph, Tensor, Var};
use proptest::prelude::*;

/// One step of a program: an op code and the indices (mod the values so far) of its operands.
type Step = (u8, usize, usize);

fn apply<'g>(g: &'g Graph<f64>, vals: &[Var<'g, f64>], (code, i, j): Step) -> Var<'g, f64> {
    let a = vals[i % vals.len()];
    let b = vals[j % vals.len()];
    match code % 20 {
        0 => a + b,
        1 => a - b,
        2 => a * b,
        3 => a * a,
        4 => a / (b * b + 0.5),
        5 => -a,
        6 => a + 0.25,
        7 => a * 1.5,
        8 => a / 3.0,
        9 => (a * 0.1).exp(),
        10 => (a * a + 0.1).log(),
        11 => (a * a).log1p(),
        12 => (a * a + 0.01).sqrt(),
        13 => a.tanh(),
        14 => a.sigmoid(),
        15 => a.powi((j % 4) as i32),
        16 => (a * a + 0.2).powf(0.75),
        // Not on the fast path: the general rule runs between scalar steps.
        17 => a.sin(),
        // A one-element tensor of another shape: broadcasting takes the general path.
        18 => a + g.constant(Tensor::from_vec(vec![0.5], &[1, 1]).unwrap()),
        _ => a * b.relu(),
    }
}

fn bits_agree(x: f64, y: f64) -> bool {
    x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
}

fn run(inputs: &[(f64, bool)], program: &[Step]) -> Result<(), TestCaseError> {
    let g = Graph::<f64>::new();
    let xs: Vec<Var<'_, f64>> = inputs
        .iter()
        .map(|&(x, rank1)| {
            let t = if rank1 {
                Tensor::from_vec(vec![x], &[1]).unwrap()
            } else {
                Tensor::scalar(x)
            };
            g.var(t)
        })
        .collect();
    let mut vals = xs.clone();
    for &step in program {
        let v = apply(&g, &vals, step);
        vals.push(v);
    }
    let out = vals.last().copied().unwrap().sum();
    let fast = g.grad(out, &xs).unwrap();
    let general = g.grad_graph(out, &xs).unwrap();
    for (k, (f, r)) in fast.iter().zip(&general).enumerate() {
        let r = r.value();
        prop_assert_eq!(f.shape(), r.shape(), "input {}", k);
        prop_assert!(
            bits_agree(f.item(), r.item()),
            "input {}: fast {:e} general {:e}",
            k,
            f.item(),
            r.item()
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_scalar_path_gives_the_general_rules_bits(
        inputs in prop::collection::vec((-2.0f64..2.0, prop::bool::weighted(0.2)), 1..4),
        program in prop::collection::vec((any::<u8>(), any::<usize>(), any::<usize>()), 1..40),
    ) {
        run(&inputs, &program)?;
    }
}

#[test]
fn the_chain_rule_example_takes_the_scalar_path_and_keeps_its_values() {
    // The guide's section 3 example: f = 1024, every partial -4096.
    let g = Graph::<f64>::new();
    let [w, x, y, z] = [-1.0, 0.0, -2.0, 1.0].map(|v| g.var(Tensor::scalar(v)));
    let a = (w + x + y + z).powi(2);
    let b = (w + x - y - z).powi(2);
    let f = ((a + b).powi(2) + (a - b).powi(2)).powi(2);
    assert_eq!(f.value().item(), 1024.0);
    let grads = g.grad(f, &[w, x, y, z]).unwrap();
    for d in grads {
        assert_eq!((d.shape(), d.item()), (&[][..], -4096.0));
    }
}

#[test]
fn an_input_used_inside_the_chain_keeps_its_adjoint_and_unused_inputs_get_zero() {
    // y = x * (x + 1) * 2 through x again at the end: dy/dx = 2 (2x + 1) + 1 at x = 3 is 15.
    let g = Graph::<f64>::new();
    let x = g.var(Tensor::scalar(3.0));
    let unused = g.var(Tensor::from_vec(vec![1.0], &[1]).unwrap());
    let y = x * (x + 1.0) * 2.0 + x;
    let d = g.grad(y, &[x, unused]).unwrap();
    assert_eq!(d[0].item(), 15.0);
    assert_eq!((d[1].shape(), d[1].item()), (&[1][..], 0.0));
}
