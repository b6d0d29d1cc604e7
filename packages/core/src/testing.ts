export { type FaultMode, FaultyStore } from './testing/faulty-store.js'
export {
  type ContractOptions,
  type ContractRunner,
  runStoreContract,
  type StoreFactory,
} from './testing/store-contract.js'
