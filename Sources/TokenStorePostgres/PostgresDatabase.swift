import TokenAuthority

/// Opens the PostgreSQL store (README, "Scaling out").
public enum PostgresDatabase {}
