export { cacheExtension } from './extension.js'
export type {
  CacheExtensionOptions,
  ModelCacheSettings,
  QueryCacheOption,
  QueryCacheSettings,
  ReadEvent,
  WriteEvent,
} from './options.js'
export type {
  CacheArgs,
  CacheClientMethods,
  CacheExtension,
  CacheExtensionArgs,
  CacheModelMethods,
  ClientWithModels,
  Fluent,
  FluentRead,
  ModelTypes,
  PayloadOf,
  RawCacheOptions,
  Related,
  SelectArg,
  SelectOf,
} from './types.js'
