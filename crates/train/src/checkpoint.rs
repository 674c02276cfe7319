//! Checkpoints in the safetensors format: a [`Trainer`]'s parameters, AdamW state and shuffler
//! state, so a run stops and resumes bit-identically.
//!
//! Tensors (all little-endian, as the format requires):
//!
//! | name | dtype | shape |
//! |---|---|---|
//! | `layers.{i}.weight`, `layers.{i}.bias` | F32 | `[in, out]`, `[out]` |
//! | `optim.m.layers.{i}.weight`, ... `optim.v....` | F32 | as the parameter |
//! | `optim.step` | U64 | `[1]` |
//! | `optim.hyper` (learning rate, β1, β2, ε, weight decay) | F64 | `[5]` |
//! | `config.sizes` | U64 | `[layers + 1]` |
//! | `config.batch_size`, `config.seed`, `trainer.steps` | U64 | `[1]` |
//! | `shuffler.rng` (xoshiro256++ state) | U64 | `[4]` |
//! | `shuffler.order`, `shuffler.cursor`, `shuffler.epoch` | U64 | `[n]`, `[1]`, `[1]` |
//!
//! The layer tensors use the names and `[in, out]` layout of the [`Mlp`] parameter vector;
//! everything else a trainer needs to continue is a tensor too (no free-text metadata), so any
//! safetensors reader sees all of it.

use crate::mlp::{Mlp, layer_layout};
use crate::shuffle::{Shuffler, ShufflerState};
use crate::trainer::{TrainConfig, Trainer};
use nabla_optim::Adam;
use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use std::fmt;
use std::path::{Path, PathBuf};

/// A checkpoint that could not be written or read: the file and what went wrong.
#[derive(Debug)]
pub struct CheckpointError {
    /// The file.
    pub path: PathBuf,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "checkpoint {}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for CheckpointError {}

/// One tensor to write: name, dtype, shape, little-endian bytes.
struct Entry {
    name: String,
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

fn f32s(name: String, shape: Vec<usize>, v: &[f32]) -> Entry {
    Entry {
        name,
        dtype: Dtype::F32,
        shape,
        bytes: v.iter().flat_map(|x| x.to_le_bytes()).collect(),
    }
}

fn f64s(name: &str, v: &[f64]) -> Entry {
    Entry {
        name: name.into(),
        dtype: Dtype::F64,
        shape: vec![v.len()],
        bytes: v.iter().flat_map(|x| x.to_le_bytes()).collect(),
    }
}

fn u64s(name: &str, v: &[u64]) -> Entry {
    Entry {
        name: name.into(),
        dtype: Dtype::U64,
        shape: vec![v.len()],
        bytes: v.iter().flat_map(|x| x.to_le_bytes()).collect(),
    }
}

fn as_u64s(v: &[usize]) -> Vec<u64> {
    v.iter().map(|&x| x as u64).collect()
}

/// The checkpoint of `trainer` as safetensors bytes.
///
/// # Errors
/// If the safetensors serializer fails (a message naming it).
pub fn to_bytes(trainer: &Trainer) -> Result<Vec<u8>, String> {
    let mlp = &trainer.mlp;
    let (m, v) = trainer.adam.moments();
    // Before the first step Adam has no moments yet: zeros are the same state.
    let zeros = vec![0.0f32; mlp.params().len()];
    let (m, v) = if m.is_empty() {
        (&zeros[..], &zeros[..])
    } else {
        (m, v)
    };
    let mut entries = Vec::new();
    for (i, l) in mlp.layers().into_iter().enumerate() {
        for (kind, range, shape) in [
            ("weight", l.weight, vec![l.inputs, l.outputs]),
            ("bias", l.bias, vec![l.outputs]),
        ] {
            let name = format!("layers.{i}.{kind}");
            entries.push(f32s(
                format!("optim.m.{name}"),
                shape.clone(),
                &m[range.clone()],
            ));
            entries.push(f32s(
                format!("optim.v.{name}"),
                shape.clone(),
                &v[range.clone()],
            ));
            entries.push(f32s(name, shape, &mlp.params()[range]));
        }
    }
    let a = &trainer.adam;
    entries.push(u64s("optim.step", &[u64::from(a.steps())]));
    entries.push(f64s(
        "optim.hyper",
        &[a.learning_rate, a.beta1, a.beta2, a.epsilon, a.weight_decay],
    ));
    let c = &trainer.config;
    entries.push(u64s("config.sizes", &as_u64s(&c.sizes)));
    entries.push(u64s("config.batch_size", &[c.batch_size as u64]));
    entries.push(u64s("config.seed", &[c.seed]));
    entries.push(u64s("trainer.steps", &[trainer.steps]));
    let s = trainer.shuffler.state();
    entries.push(u64s("shuffler.rng", &s.rng));
    entries.push(u64s("shuffler.order", &as_u64s(&s.order)));
    entries.push(u64s("shuffler.cursor", &[s.cursor as u64]));
    entries.push(u64s("shuffler.epoch", &[s.epoch]));

    let views = entries
        .iter()
        .map(|e| {
            TensorView::new(e.dtype, e.shape.clone(), &e.bytes)
                .map(|view| (e.name.clone(), view))
                .map_err(|err| format!("tensor {}: {err}", e.name))
        })
        .collect::<Result<Vec<_>, _>>()?;
    safetensors::serialize(views, None).map_err(|e| format!("serializing: {e}"))
}

/// Reads tensors out of a deserialized checkpoint, checking each one's dtype and shape.
struct Reader<'a> {
    st: SafeTensors<'a>,
}

impl Reader<'_> {
    fn view(&self, name: &str, dtype: Dtype, shape: Option<&[usize]>) -> Result<&[u8], String> {
        let t = self
            .st
            .tensor(name)
            .map_err(|_| format!("tensor {name:?} missing"))?;
        if t.dtype() != dtype {
            return Err(format!(
                "tensor {name:?} has dtype {:?}, expected {dtype:?}",
                t.dtype()
            ));
        }
        if let Some(shape) = shape
            && t.shape() != shape
        {
            return Err(format!(
                "tensor {name:?} has shape {:?}, expected {shape:?}",
                t.shape()
            ));
        }
        Ok(t.data())
    }
    fn f32s(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>, String> {
        let b = self.view(name, Dtype::F32, Some(shape))?;
        Ok(b.chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect())
    }
    fn f64s(&self, name: &str, len: usize) -> Result<Vec<f64>, String> {
        let b = self.view(name, Dtype::F64, Some(&[len]))?;
        Ok(b.chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect())
    }
    fn u64s(&self, name: &str, len: Option<usize>) -> Result<Vec<u64>, String> {
        let b = self.view(name, Dtype::U64, len.map(|l| [l]).as_ref().map(|s| &s[..]))?;
        Ok(b.chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect())
    }
    fn u64(&self, name: &str) -> Result<u64, String> {
        Ok(self.u64s(name, Some(1))?[0])
    }
}

fn to_usize(name: &str, v: u64) -> Result<usize, String> {
    usize::try_from(v).map_err(|_| format!("{name}: {v} does not fit in usize"))
}

/// A trainer restored from checkpoint bytes: a fresh object, equal in every bit of state to the
/// one saved.
///
/// # Errors
/// A message naming the first missing or ill-shaped tensor, or an invalid state.
pub fn from_bytes(bytes: &[u8]) -> Result<Trainer, String> {
    let st = SafeTensors::deserialize(bytes).map_err(|e| format!("not a safetensors file: {e}"))?;
    let r = Reader { st };
    let sizes = r
        .u64s("config.sizes", None)?
        .into_iter()
        .map(|s| to_usize("config.sizes", s))
        .collect::<Result<Vec<_>, _>>()?;
    let hyper = r.f64s("optim.hyper", 5)?;
    let config = TrainConfig {
        sizes: sizes.clone(),
        batch_size: to_usize("config.batch_size", r.u64("config.batch_size")?)?,
        learning_rate: hyper[0],
        weight_decay: hyper[4],
        seed: r.u64("config.seed")?,
    };
    if config.batch_size == 0 {
        return Err("config.batch_size is 0".into());
    }
    let layers = layer_layout(&sizes).map_err(|e| format!("config.sizes: {e}"))?;
    let total = layers.last().map_or(0, |l| l.bias.end);
    let (mut params, mut m, mut v) = (vec![0.0; total], vec![0.0; total], vec![0.0; total]);
    for (i, l) in layers.into_iter().enumerate() {
        for (kind, range, shape) in [
            ("weight", l.weight, vec![l.inputs, l.outputs]),
            ("bias", l.bias, vec![l.outputs]),
        ] {
            let name = format!("layers.{i}.{kind}");
            params[range.clone()].copy_from_slice(&r.f32s(&name, &shape)?);
            m[range.clone()].copy_from_slice(&r.f32s(&format!("optim.m.{name}"), &shape)?);
            v[range].copy_from_slice(&r.f32s(&format!("optim.v.{name}"), &shape)?);
        }
    }
    let mlp = Mlp::from_params(&sizes, params)?;
    let step = r.u64("optim.step")?;
    let step = u32::try_from(step).map_err(|_| format!("optim.step {step} exceeds u32"))?;
    let mut adam = Adam::adamw(hyper[0], hyper[4]);
    (adam.beta1, adam.beta2, adam.epsilon) = (hyper[1], hyper[2], hyper[3]);
    adam.restore(m, v, step)?;
    let rng: [u64; 4] = r
        .u64s("shuffler.rng", Some(4))?
        .try_into()
        .expect("shape checked");
    let order = r
        .u64s("shuffler.order", None)?
        .into_iter()
        .map(|s| to_usize("shuffler.order", s))
        .collect::<Result<Vec<_>, _>>()?;
    let shuffler = Shuffler::from_state(ShufflerState {
        rng,
        order,
        cursor: to_usize("shuffler.cursor", r.u64("shuffler.cursor")?)?,
        epoch: r.u64("shuffler.epoch")?,
    })?;
    Ok(Trainer {
        config,
        mlp,
        adam,
        shuffler,
        steps: r.u64("trainer.steps")?,
    })
}

/// Writes `trainer`'s checkpoint to `path` (a safetensors file).
///
/// # Errors
/// A [`CheckpointError`] naming the file if serializing or writing fails.
pub fn save(trainer: &Trainer, path: impl AsRef<Path>) -> Result<(), CheckpointError> {
    let path = path.as_ref();
    let err = |message: String| CheckpointError {
        path: path.to_path_buf(),
        message,
    };
    let bytes = to_bytes(trainer).map_err(err)?;
    std::fs::write(path, bytes).map_err(|e| err(format!("cannot write: {e}")))
}

/// Reads a trainer back from the safetensors file at `path` (see [`from_bytes`]).
///
/// # Errors
/// A [`CheckpointError`] naming the file if it cannot be read or is not a valid checkpoint.
pub fn load(path: impl AsRef<Path>) -> Result<Trainer, CheckpointError> {
    let path = path.as_ref();
    let err = |message: String| CheckpointError {
        path: path.to_path_buf(),
        message,
    };
    let bytes = std::fs::read(path).map_err(|e| err(format!("cannot read: {e}")))?;
    from_bytes(&bytes).map_err(err)
}
