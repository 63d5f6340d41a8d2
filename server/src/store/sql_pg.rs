//! PostgreSQL's side of `sql.rs`: parameter marks, statements prepared once
//! per connection, values encoded as the type PostgreSQL inferred for their
//! place, and columns read back as the store's plain values.

use std::collections::HashMap;

use postgres::types::{FromSql, IsNull, ToSql, Type};

use super::{Row, SqlError, Value};

/// `?N` to `$N`, outside string literals: the one dialect difference in
/// the store's SQL that is not a matter of choosing shared syntax.
pub fn to_postgres(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quoted = false;
    for c in sql.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                out.push(c);
            }
            '?' if !quoted => out.push('$'),
            c => out.push(c),
        }
    }
    out
}

pub(super) fn pg_statement(
    client: &mut postgres::Client,
    statements: &mut HashMap<String, postgres::Statement>,
    sql: &str,
) -> Result<postgres::Statement, SqlError> {
    if let Some(s) = statements.get(sql) {
        return Ok(s.clone());
    }
    let s = client.prepare(&to_postgres(sql))?;
    statements.insert(sql.to_string(), s.clone());
    Ok(s)
}

/// A parameter encoded as whatever type PostgreSQL inferred for its place,
/// so the store need not spell out INT4 against INT8.
#[derive(Debug)]
pub(super) struct PgValue(Value);

pub(super) fn pg_args(values: &[Value]) -> Vec<PgValue> {
    values.iter().cloned().map(PgValue).collect()
}

pub(super) fn pg_refs(args: &[PgValue]) -> Vec<&(dyn ToSql + Sync)> {
    args.iter().map(|a| a as &(dyn ToSql + Sync)).collect()
}

type BoxError = Box<dyn std::error::Error + Sync + Send>;

impl ToSql for PgValue {
    fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, BoxError> {
        match (&self.0, ty) {
            (Value::Null, _) => Ok(IsNull::Yes),
            (Value::Int(i), &Type::INT8) => i.to_sql(ty, out),
            (Value::Int(i), &Type::INT4) => i32::try_from(*i)?.to_sql(ty, out),
            (Value::Int(i), &Type::INT2) => i16::try_from(*i)?.to_sql(ty, out),
            (Value::Int(i), &Type::BOOL) => (*i != 0).to_sql(ty, out),
            (Value::Int(i), &Type::FLOAT8) => (*i as f64).to_sql(ty, out),
            (Value::Int(i), &Type::TEXT | &Type::VARCHAR) => i.to_string().to_sql(ty, out),
            (Value::Real(f), &Type::FLOAT8) => f.to_sql(ty, out),
            (Value::Real(f), &Type::FLOAT4) => (*f as f32).to_sql(ty, out),
            (Value::Text(s), _) => s.as_str().to_sql(&Type::TEXT, out),
            (Value::Blob(b), &Type::BYTEA) => b.as_slice().to_sql(ty, out),
            (v, ty) => Err(format!("cannot send {v:?} as PostgreSQL {ty}").into()),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

pub(super) fn pg_row(row: &postgres::Row) -> Result<Row, SqlError> {
    let mut out = Vec::with_capacity(row.len());
    for (i, col) in row.columns().iter().enumerate() {
        let v = match *col.type_() {
            Type::INT8 => row.try_get::<_, Option<i64>>(i)?.map(Value::Int),
            Type::INT4 => row
                .try_get::<_, Option<i32>>(i)?
                .map(|n| Value::Int(n.into())),
            Type::INT2 => row
                .try_get::<_, Option<i16>>(i)?
                .map(|n| Value::Int(n.into())),
            Type::BOOL => row
                .try_get::<_, Option<bool>>(i)?
                .map(|b| Value::Int(b.into())),
            Type::FLOAT8 => row.try_get::<_, Option<f64>>(i)?.map(Value::Real),
            Type::FLOAT4 => row
                .try_get::<_, Option<f32>>(i)?
                .map(|f| Value::Real(f.into())),
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => {
                row.try_get::<_, Option<String>>(i)?.map(Value::Text)
            }
            Type::BYTEA => row.try_get::<_, Option<Vec<u8>>>(i)?.map(Value::Blob),
            Type::NUMERIC => row.try_get::<_, Option<Numeric>>(i)?.map(|n| n.0),
            ref ty => {
                return Err(SqlError::PgType {
                    index: i,
                    ty: ty.to_string(),
                })
            }
        };
        out.push(v.unwrap_or(Value::Null));
    }
    Ok(Row(out))
}

/// NUMERIC as PostgreSQL sends it (what `sum` of BIGINT returns): an integer
/// when it has no fraction, else a float.
struct Numeric(Value);

impl<'a> FromSql<'a> for Numeric {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let word = |i: usize| -> Result<u16, BoxError> {
            raw.get(i * 2..i * 2 + 2)
                .map(|b| u16::from_be_bytes([b[0], b[1]]))
                .ok_or_else(|| "a NUMERIC value cut short".into())
        };
        let (ndigits, weight, sign, dscale) = (word(0)?, word(1)? as i16, word(2)?, word(3)?);
        if sign == 0xC000 {
            return Err("NUMERIC NaN".into());
        }
        let mut value = 0f64;
        let mut int: Option<i64> = Some(0);
        for d in 0..ndigits {
            let digit = word(4 + d as usize)?;
            let power = i32::from(weight) - i32::from(d);
            value += f64::from(digit) * 10000f64.powi(power);
            int = match (int, u32::try_from(power)) {
                (Some(n), Ok(p)) => 10000i64
                    .checked_pow(p)
                    .and_then(|m| m.checked_mul(i64::from(digit)))
                    .and_then(|x| n.checked_add(x)),
                _ => None,
            };
        }
        let negative = sign == 0x4000;
        Ok(Numeric(match int {
            Some(n) if dscale == 0 => Value::Int(if negative { -n } else { n }),
            _ => Value::Real(if negative { -value } else { value }),
        }))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }
}
