//! The syntax tree: a flat arena of nodes, children before parents, each with its columns.
//!
//! Every walk over a formula is a loop over the arena (no recursion), so a formula of any
//! length is safe to compile, print and drop.

use crate::lexer::Span;
use std::fmt;

/// A binary operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `^`
    Pow,
}

impl BinOp {
    /// The operator's symbol.
    pub fn symbol(self) -> char {
        match self {
            BinOp::Add => '+',
            BinOp::Sub => '-',
            BinOp::Mul => '*',
            BinOp::Div => '/',
            BinOp::Pow => '^',
        }
    }

    /// How error messages name it.
    pub fn name(self) -> &'static str {
        match self {
            BinOp::Add => "addition",
            BinOp::Sub => "subtraction",
            BinOp::Mul => "multiplication",
            BinOp::Div => "division",
            BinOp::Pow => "power",
        }
    }

    /// Binding strength: `+ -` 1, `* /` 2, `^` 4 (unary minus is 3).
    pub fn precedence(self) -> u8 {
        match self {
            BinOp::Add | BinOp::Sub => 1,
            BinOp::Mul | BinOp::Div => 2,
            BinOp::Pow => 4,
        }
    }
}

/// The precedence of unary minus: between `* /` and `^`.
pub const NEG_PRECEDENCE: u8 = 3;

/// A function of the language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Func {
    /// `e^x`
    Exp,
    /// Natural logarithm.
    Log,
    /// Square root.
    Sqrt,
    /// Sine.
    Sin,
    /// Cosine.
    Cos,
    /// Hyperbolic tangent.
    Tanh,
    /// `1 / (1 + e^-x)`
    Sigmoid,
    /// `ln(1 + e^x)`
    Softplus,
    /// `|x|`
    Abs,
    /// `ln(e^a + e^b + ...)`, one or more arguments.
    LogSumExp,
}

impl Func {
    /// Every function, in the order of [`Func::NAMES`].
    pub const ALL: [Func; 10] = [
        Func::Exp,
        Func::Log,
        Func::Sqrt,
        Func::Sin,
        Func::Cos,
        Func::Tanh,
        Func::Sigmoid,
        Func::Softplus,
        Func::Abs,
        Func::LogSumExp,
    ];
    /// The functions' names, as written in formulas.
    pub const NAMES: [&'static str; 10] = [
        "exp",
        "log",
        "sqrt",
        "sin",
        "cos",
        "tanh",
        "sigmoid",
        "softplus",
        "abs",
        "logsumexp",
    ];

    /// The function called `name`.
    pub fn from_name(name: &str) -> Option<Func> {
        Func::NAMES
            .iter()
            .position(|&n| n == name)
            .map(|i| Func::ALL[i])
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        Func::NAMES[Func::ALL
            .iter()
            .position(|&f| f == self)
            .expect("ALL lists every function")]
    }

    /// Whether it takes `n` arguments.
    pub fn accepts(self, n: usize) -> bool {
        match self {
            Func::LogSumExp => n >= 1,
            _ => n == 1,
        }
    }

    /// How many arguments it takes, in words.
    pub fn arity(self) -> &'static str {
        match self {
            Func::LogSumExp => "at least 1",
            _ => "1",
        }
    }
}

/// The index of a node in its [`Expr`]'s arena.
pub type NodeId = usize;

/// What a node is.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// A number literal (finite, not negative).
    Num(f64),
    /// The constant `pi`.
    Pi,
    /// A variable, by its index in first-appearance order.
    Var(usize),
    /// Unary minus.
    Neg(NodeId),
    /// A binary operation on its left and right operands.
    Bin(BinOp, [NodeId; 2]),
    /// A function call.
    Call(Func, Vec<NodeId>),
}

impl Kind {
    /// The node's children, in order.
    pub fn children(&self) -> &[NodeId] {
        match self {
            Kind::Num(_) | Kind::Pi | Kind::Var(_) => &[],
            Kind::Neg(a) => std::slice::from_ref(a),
            Kind::Bin(_, ab) => ab,
            Kind::Call(_, args) => args,
        }
    }
}

/// One node: what it is and the columns of its operator or name (for a literal or a variable,
/// its text; for a binary operation, the operator; for a call, the function's name).
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// What it is.
    pub kind: Kind,
    /// Where its operator or name is.
    pub span: Span,
}

/// A parsed formula's tree: nodes in an arena, every child before its parent, the root last.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// The nodes; a node's children have smaller indices.
    pub nodes: Vec<Node>,
    /// The variables' names, in order of first appearance.
    pub variables: Vec<String>,
}

impl Expr {
    /// The root's index (the last node).
    pub fn root(&self) -> NodeId {
        self.nodes.len() - 1
    }

    /// The children of node `id`, in order.
    pub fn children(&self, id: NodeId) -> &[NodeId] {
        self.nodes[id].kind.children()
    }

    /// How the operation of node `id` is named in messages.
    pub fn op_name(&self, id: NodeId) -> &'static str {
        match &self.nodes[id].kind {
            Kind::Num(_) => "number",
            Kind::Pi => "pi",
            Kind::Var(_) => "variable",
            Kind::Neg(_) => "negation",
            Kind::Bin(op, _) => op.name(),
            Kind::Call(f, _) => f.name(),
        }
    }

    /// Whether the subtree at `id` contains no variable.
    pub fn is_constant(&self, id: NodeId) -> bool {
        let mut stack = vec![id];
        while let Some(n) = stack.pop() {
            match &self.nodes[n].kind {
                Kind::Var(_) => return false,
                k => stack.extend_from_slice(k.children()),
            }
        }
        true
    }

    /// The node's binding strength as printed: atoms and calls bind tightest.
    fn precedence(&self, id: NodeId) -> u8 {
        match &self.nodes[id].kind {
            Kind::Neg(_) => NEG_PRECEDENCE,
            Kind::Bin(op, _) => op.precedence(),
            _ => u8::MAX,
        }
    }
}

/// Prints the formula back with as few parentheses as the grammar allows; parsing the result
/// gives the same tree (the spans aside). Numbers print in the shortest form that reads back as
/// the same `f64` (`2`, `0.5`, `1e-7`).
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        enum Task<'a> {
            Node(NodeId, bool),
            Text(&'a str),
        }
        let mut stack = vec![Task::Node(self.root(), false)];
        while let Some(task) = stack.pop() {
            let (id, parens) = match task {
                Task::Text(s) => {
                    f.write_str(s)?;
                    continue;
                }
                Task::Node(id, parens) => (id, parens),
            };
            if parens {
                f.write_str("(")?;
                stack.push(Task::Text(")"));
            }
            // Pushed in reverse: the stack pops them in writing order.
            match &self.nodes[id].kind {
                Kind::Num(v) => f.write_str(&crate::error::number(*v))?,
                Kind::Pi => f.write_str("pi")?,
                Kind::Var(i) => f.write_str(&self.variables[*i])?,
                Kind::Neg(a) => {
                    f.write_str("-")?;
                    // `-(-x)` would print as `--x`, which reads the same; `-(x*y)` needs them.
                    stack.push(Task::Node(*a, self.precedence(*a) < NEG_PRECEDENCE));
                }
                Kind::Bin(op, [a, b]) => {
                    let p = op.precedence();
                    let (pa, pb) = (self.precedence(*a), self.precedence(*b));
                    let (left, right) = if *op == BinOp::Pow {
                        // Right-associative, and tighter than unary minus on its left; on its
                        // right a unary minus is allowed (`2^-x`).
                        (pa <= p, pb < NEG_PRECEDENCE)
                    } else {
                        (pa < p, pb <= p)
                    };
                    stack.push(Task::Node(*b, right));
                    stack.push(Task::Text(match op {
                        BinOp::Add => " + ",
                        BinOp::Sub => " - ",
                        BinOp::Mul => "*",
                        BinOp::Div => "/",
                        BinOp::Pow => "^",
                    }));
                    stack.push(Task::Node(*a, left));
                }
                Kind::Call(func, args) => {
                    write!(f, "{}(", func.name())?;
                    stack.push(Task::Text(")"));
                    for (k, &arg) in args.iter().enumerate().rev() {
                        stack.push(Task::Node(arg, false));
                        if k > 0 {
                            stack.push(Task::Text(", "));
                        }
                    }
                }
            }
        }
        Ok(())
    }
}
