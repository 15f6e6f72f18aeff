import { Component, type ReactNode } from 'react';
import i18next from 'i18next';

/** A crash in one view must not blank the page: show what broke and a way back. */
export class ErrorBoundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  override state = { error: null as Error | null };
  static getDerivedStateFromError(error: Error) {
    return { error };
  }
  override render() {
    if (!this.state.error) return this.props.children;
    return (
      <div role="alert" className="error-box">
        <p>{i18next.t('app.crashed', { message: this.state.error.message })}</p>
        <button type="button" onClick={() => this.setState({ error: null })}>
          {i18next.t('app.crashedAction')}
        </button>
      </div>
    );
  }
}
