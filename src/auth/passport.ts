import type { Knex } from 'knex';
import passport from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import { authenticate } from './auth.service';
import * as users from '../users/users.repo';

/**
 * Sessions store the user id; every request reloads the user, so a deactivated account or a
 * changed role takes effect at the next request.
 */
export function createPassport(db: Knex): passport.PassportStatic {
  const instance = new passport.Passport() as unknown as passport.PassportStatic;
  instance.use(
    new LocalStrategy(
      { usernameField: 'email', passwordField: 'password' },
      (email, password, done) => {
        authenticate(db, email, password)
          .then((u) => done(null, u ?? false))
          .catch(done);
      },
    ),
  );
  instance.serializeUser((user, done) => done(null, user.id));
  instance.deserializeUser((id: unknown, done) => {
    const userId = Number(id);
    if (!Number.isSafeInteger(userId)) return done(null, false);
    users
      .findSessionUser(db, userId)
      .then((u) => done(null, u ?? false))
      .catch(done);
  });
  return instance;
}
