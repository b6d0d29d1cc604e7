// The NestJS + TypeORM example from packages/typeorm/README.md, type-checked by
// scripts/packages-check with the tsconfig `nest new` generates (CommonJS, decorators).
import { Module } from '@nestjs/common'
import { TypeOrmModule } from '@nestjs/typeorm'
import { createCache } from '@ormcache/core'
import { redisStore } from '@ormcache/core/redis'
import { typeormCache } from '@ormcache/typeorm'

const cache = createCache({ store: redisStore({ url: process.env.REDIS_URL ?? 'redis://localhost:6379' }) })

@Module({
  imports: [
    TypeOrmModule.forRoot({
      type: 'postgres',
      url: process.env.DATABASE_URL,
      autoLoadEntities: true,
      ...typeormCache({ cache, alwaysEnabled: true }),
    }),
  ],
})
export class AppModule {}
