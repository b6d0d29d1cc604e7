import { InvalidOptionError } from '@ormcache/core'
import type { SqlDialect } from '@ormcache/core/adapter'
import type { DataSource } from 'typeorm'

const DIALECTS: Record<string, SqlDialect> = {
  postgres: 'postgres',
  'aurora-postgres': 'postgres',
  cockroachdb: 'postgres',
  mysql: 'mysql',
  mariadb: 'mysql',
  'aurora-mysql': 'mysql',
  sqlite: 'sqlite',
  'better-sqlite3': 'sqlite',
  sqljs: 'sqlite',
  capacitor: 'sqlite',
  cordova: 'sqlite',
  expo: 'sqlite',
  'react-native': 'sqlite',
  nativescript: 'sqlite',
}

/** The SQL dialect of a DataSource; other databases are refused when the DataSource is built. */
export function dialectOf(dataSource: DataSource): SqlDialect {
  const dialect = DIALECTS[dataSource.options.type]
  if (dialect === undefined) {
    throw new InvalidOptionError(
      'DataSource.type',
      `@ormcache/typeorm supports PostgreSQL, MySQL/MariaDB and SQLite, not "${dataSource.options.type}"`,
    )
  }
  return dialect
}
