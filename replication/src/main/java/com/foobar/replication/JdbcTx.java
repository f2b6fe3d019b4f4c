package com.foobar.replication;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** A {@link Tx} over one pooled connection whose transaction {@link Transactions} owns. */
final class JdbcTx implements Tx {
  private final Route route;
  private final String server;
  private final Connection connection;

  JdbcTx(Route route, String server, Connection connection) {
    this.route = route;
    this.server = server;
    this.connection = connection;
  }

  @Override
  public Route route() {
    return route;
  }

  @Override
  public String server() {
    return server;
  }

  @Override
  public Connection connection() {
    return connection;
  }

  @Override
  public int update(String sql, Object... args) throws SQLException {
    try (PreparedStatement statement = prepare(sql, args)) {
      return statement.executeUpdate();
    }
  }

  @Override
  public <T> List<T> query(String sql, RowMapper<T> mapper, Object... args) throws SQLException {
    try (PreparedStatement statement = prepare(sql, args);
        ResultSet rows = statement.executeQuery()) {
      List<T> out = new ArrayList<>();
      while (rows.next()) {
        out.add(mapper.map(rows));
      }
      return out;
    }
  }

  @Override
  public <T> Optional<T> queryOne(String sql, RowMapper<T> mapper, Object... args)
      throws SQLException {
    try (PreparedStatement statement = prepare(sql, args);
        ResultSet rows = statement.executeQuery()) {
      if (!rows.next()) {
        return Optional.empty();
      }
      T value = mapper.map(rows);
      if (rows.next()) {
        throw new SQLException("expected at most one row from: " + sql);
      }
      return Optional.of(value);
    }
  }

  private PreparedStatement prepare(String sql, Object... args) throws SQLException {
    PreparedStatement statement = connection.prepareStatement(sql);
    try {
      for (int i = 0; i < args.length; i++) {
        statement.setObject(i + 1, args[i]);
      }
      return statement;
    } catch (SQLException e) {
      statement.close();
      throw e;
    }
  }
}
