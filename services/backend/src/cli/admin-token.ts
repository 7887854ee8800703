/**
 * `npm run admin:token`: issues a new admin API token and revokes the old one. For an operator
 * with access to the server (and its environment); the token is printed once, only its hash is kept.
 */
import { issueAdminToken } from '../admin/tokens.ts';
import { runCli, withInstanceDatabase } from './instance-database.ts';

runCli(async () => {
  const token = await withInstanceDatabase(({ session }) => issueAdminToken(session.db));
  console.error('New admin token (the previous one is revoked). It is shown only now:');
  console.log(token);
});
