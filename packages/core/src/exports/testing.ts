export { type BusFactory, runBusContract } from '../testing/bus-contract.js'
export { type FaultMode, FaultyStore } from '../testing/faulty-store.js'
export { type QueueFactory, runQueueContract } from '../testing/queue-contract.js'
export {
  type ContractOptions,
  type ContractRunner,
  runStoreContract,
  type StoreFactory,
} from '../testing/store-contract.js'
