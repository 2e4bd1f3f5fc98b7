//! A generator of strings matching the small regular expressions the quickstart schemas use
//! (`User_[1-9]{0,1}`, `Page_[1-9][0-9]?`): literals, `\` escapes, character classes with
//! ranges, `.`, and the quantifiers `?`, `*`, `+`, `{n}`, `{m,n}` (`*` and `+` bounded at 10).

use rand::Rng;

/// A parsed pattern.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Pattern(Vec<(Atom, u32, u32)>);

#[derive(Debug, Clone, PartialEq)]
enum Atom {
    Literal(char),
    Class(Vec<(char, char)>),
}

/// A pattern this generator does not support.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported regular expression {pattern:?}: {problem}")]
pub(crate) struct PatternError {
    pattern: String,
    problem: String,
}

impl Pattern {
    pub(crate) fn parse(pattern: &str) -> Result<Self, PatternError> {
        let err = |problem: &str| PatternError { pattern: pattern.to_owned(), problem: problem.to_owned() };
        let chars: Vec<char> = pattern.chars().collect();
        let mut i = 0;
        let mut items = Vec::new();
        while i < chars.len() {
            let atom = match chars[i] {
                '[' => {
                    let close = chars[i..].iter().position(|c| *c == ']').ok_or_else(|| err("unclosed '['"))? + i;
                    let body = &chars[i + 1..close];
                    let mut ranges = Vec::new();
                    let mut j = 0;
                    while j < body.len() {
                        if j + 2 < body.len() && body[j + 1] == '-' {
                            ranges.push((body[j], body[j + 2]));
                            j += 3;
                        } else {
                            ranges.push((body[j], body[j]));
                            j += 1;
                        }
                    }
                    if ranges.is_empty() || ranges.iter().any(|(a, b)| a > b) {
                        return Err(err("empty or reversed character class"));
                    }
                    i = close + 1;
                    Atom::Class(ranges)
                }
                '\\' => {
                    let c = *chars.get(i + 1).ok_or_else(|| err("trailing '\\'"))?;
                    i += 2;
                    match c {
                        'd' => Atom::Class(vec![('0', '9')]),
                        'w' => Atom::Class(vec![('a', 'z'), ('A', 'Z'), ('0', '9'), ('_', '_')]),
                        c => Atom::Literal(c),
                    }
                }
                '.' => {
                    i += 1;
                    Atom::Class(vec![('a', 'z'), ('A', 'Z'), ('0', '9')])
                }
                '(' | ')' | '|' | '^' | '$' => return Err(err("groups, alternation and anchors are not supported")),
                c => {
                    i += 1;
                    Atom::Literal(c)
                }
            };
            let (min, max, used) = quantifier(&chars[i..]).map_err(err)?;
            i += used;
            items.push((atom, min, max));
        }
        Ok(Self(items))
    }

    pub(crate) fn generate(&self, rng: &mut impl Rng) -> String {
        let mut out = String::with_capacity(self.0.len() + 8);
        for (i, (atom, min, max)) in self.0.iter().enumerate() {
            // Where the string could already end (everything after is optional), stop with
            // probability 0.35, as the Generex library behind Confluent's datagen does; other
            // optional repetitions are drawn uniformly.
            let tail_optional = self.0[i + 1..].iter().all(|(_, min, _)| *min == 0);
            let n = if tail_optional {
                let mut n = *min;
                while n < *max && !rng.random_bool(EARLY_STOP) {
                    n += 1;
                }
                n
            } else {
                rng.random_range(*min..=*max)
            };
            for _ in 0..n {
                push_atom(&mut out, atom, rng);
            }
            if tail_optional && n < *max {
                break;
            }
        }
        out
    }
}

/// Probability of stopping at a point where the pattern may end (Generex's choice).
const EARLY_STOP: f64 = 0.35;

fn push_atom(out: &mut String, atom: &Atom, rng: &mut impl Rng) {
    match atom {
        Atom::Literal(c) => out.push(*c),
        Atom::Class(ranges) => {
            let total: u32 = ranges.iter().map(|(a, b)| *b as u32 - *a as u32 + 1).sum();
            let mut pick = rng.random_range(0..total);
            for (a, b) in ranges {
                let size = *b as u32 - *a as u32 + 1;
                if pick < size {
                    out.push(char::from_u32(*a as u32 + pick).unwrap_or(*a));
                    break;
                }
                pick -= size;
            }
        }
    }
}

fn quantifier(rest: &[char]) -> Result<(u32, u32, usize), &'static str> {
    Ok(match rest.first() {
        Some('?') => (0, 1, 1),
        Some('*') => (0, 10, 1),
        Some('+') => (1, 10, 1),
        Some('{') => {
            let close = rest.iter().position(|c| *c == '}').ok_or("unclosed '{'")?;
            let body: String = rest[1..close].iter().collect();
            let (a, b) = match body.split_once(',') {
                Some((a, b)) => {
                    (a.trim().parse().map_err(|_| "bad {m,n}")?, b.trim().parse().map_err(|_| "bad {m,n}")?)
                }
                None => {
                    let n = body.trim().parse().map_err(|_| "bad {n}")?;
                    (n, n)
                }
            };
            if a > b {
                return Err("reversed {m,n}");
            }
            (a, b, close + 1)
        }
        _ => (1, 1, 0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn generates_strings_of_the_quickstart_shapes() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let p = Pattern::parse("User_[1-9]{0,1}").unwrap();
        for _ in 0..100 {
            let s = p.generate(&mut rng);
            assert!(s == "User_" || (s.len() == 6 && s.as_bytes()[5].is_ascii_digit() && !s.ends_with('0')), "{s}");
        }
        let p = Pattern::parse("Page_[1-9][0-9]?").unwrap();
        let s = p.generate(&mut rng);
        assert!(s.starts_with("Page_") && (6..=7).contains(&s.len()), "{s}");
    }

    #[test]
    fn optional_tails_stop_early_like_generex() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let p = Pattern::parse("City_[1-9]{0,2}").unwrap();
        let mut counts = [0usize; 3];
        for _ in 0..20_000 {
            counts[p.generate(&mut rng).len() - 5] += 1;
        }
        // Expected 35 %, 22.75 %, 42.25 %.
        let share = |i: usize| counts[i] as f64 / 20_000.0;
        assert!((share(0) - 0.35).abs() < 0.02, "{counts:?}");
        assert!((share(1) - 0.2275).abs() < 0.02, "{counts:?}");
        assert!((share(2) - 0.4225).abs() < 0.02, "{counts:?}");
    }

    #[test]
    fn rejects_what_it_cannot_generate() {
        assert!(Pattern::parse("(a|b)").is_err());
        assert!(Pattern::parse("[a-").is_err());
    }
}
