export {
  type ContractOptions,
  type ContractRunner,
  runStoreContract,
  type StoreFactory,
} from './testing/store-contract.js'
