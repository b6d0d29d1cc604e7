import type { DataSource } from 'typeorm'

/**
 * The DataSource of a subscriber event. TypeORM 1.x names it `dataSource` (keeping `connection`
 * as a deprecated alias); 0.3.x only has `connection`.
 */
export function dataSourceOf(event: { dataSource?: DataSource; connection?: DataSource }): DataSource {
  const dataSource = event.dataSource ?? event.connection
  if (dataSource === undefined) throw new TypeError('TypeORM event without a DataSource')
  return dataSource
}
