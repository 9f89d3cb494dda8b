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
    users
      .findById(db, Number(id))
      .then((u) =>
        done(
          null,
          u && u.active
            ? { id: u.id, email: u.email, name: u.name, role: u.role, locale: u.locale }
            : false,
        ),
      )
      .catch(done);
  });
  return instance;
}
