use nabla_kernels::gemm::{self, MatMut, MatRef, ZZT};
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;
fn main() {
    if std::env::var("ZZ_T").is_ok() {
        go::<f64>()
    } else {
        go::<f32>()
    }
}
fn go<T: nabla_kernels::Element>() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    for sh in &args {
        let d: Vec<usize> = sh.split('x').map(|x| x.parse().unwrap()).collect();
        let (m, k, n) = (d[0], d[1], d[2]);
        let a: Vec<T> = (0..m * k)
            .map(|i| T::from_f64((i % 13) as f64 * 0.1))
            .collect();
        let w: Vec<T> = (0..k * n)
            .map(|i| T::from_f64((i % 7) as f64 * 0.1))
            .collect();
        let mut c = vec![T::ZERO; m * n];
        let mut c2 = vec![T::ZERO; m * n];
        let mut sw = vec![0u8; 8 << 20];
        let reps = ((2e9 / (2.0 * (m * k * n) as f64)) as usize).clamp(5, 200);
        let mut ts = [vec![], vec![]];
        for r in 0..reps * 2 {
            let x = r % 2;
            ZZT.store(x, Relaxed);
            for (i, v) in sw.iter_mut().enumerate() {
                *v = v.wrapping_add(i as u8);
            }
            std::hint::black_box(&sw);
            let t = Instant::now();
            gemm::gemm(
                T::ONE,
                MatRef::row_major(&a, m, k),
                MatRef::row_major(&w, n, k).t(),
                T::ZERO,
                MatMut::row_major(if x == 0 { &mut c } else { &mut c2 }, m, n),
            );
            ts[x].push(t.elapsed().as_secs_f64());
        }
        let maxdiff = c
            .iter()
            .zip(&c2)
            .map(|(x, y)| ((x.to_f64() - y.to_f64()) / x.to_f64().abs().max(1.0)).abs())
            .fold(0f64, f64::max);
        for t in ts.iter_mut() {
            t.sort_by(|a, b| a.partial_cmp(b).unwrap());
        }
        println!(
            "{sh:>14}: dot {:8.1} us | transposed micro-kernel {:8.1} us | {:+.1}% (max rel diff {maxdiff:.1e})",
            ts[0][ts[0].len() / 2] * 1e6,
            ts[1][ts[1].len() / 2] * 1e6,
            (ts[1][ts[1].len() / 2] / ts[0][ts[0].len() / 2] - 1.0) * 100.0
        );
    }
}
