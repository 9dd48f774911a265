//! Structs read from query rows by column name, on either engine.
//!
//! `row!` wraps a struct definition and implements `sqlx::FromRow` for it, one column per field
//! of the same name. It stands in for sqlx's derive, whose macro crate would compile both
//! database drivers (and SQLite's C source) a second time for the build host.

macro_rules! row {
    // A row that holds another row's columns and a few of its own.
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            #[flatten] $inner:ident : $inner_ty:ty,
            $( $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $inner: $inner_ty,
            $( $field: $ty, )*
        }

        impl<'r, R: sqlx::Row> sqlx::FromRow<'r, R> for $name
        where
            &'static str: sqlx::ColumnIndex<R>,
            $inner_ty: sqlx::FromRow<'r, R>,
            $( $ty: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>, )*
        {
            fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
                Ok(Self { $inner: <$inner_ty>::from_row(row)?, $( $field: row.try_get(stringify!($field))?, )* })
            }
        }
    };
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$field_meta:meta])* $field_vis:vis $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $( $(#[$field_meta])* $field_vis $field: $ty, )*
        }

        impl<'r, R: sqlx::Row> sqlx::FromRow<'r, R> for $name
        where
            &'static str: sqlx::ColumnIndex<R>,
            $( $ty: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>, )*
        {
            fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
                Ok(Self { $( $field: row.try_get(stringify!($field))?, )* })
            }
        }
    };
}
